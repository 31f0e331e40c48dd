package dev.tuneforge.gateway.api;

import static io.restassured.RestAssured.given;

import io.restassured.specification.RequestSpecification;

/** Requests as one tenant or another, with the API keys of the test profile. */
final class Callers {
  static final String ACME_KEY = "sk-test-acme-0000000000";
  static final String GLOBEX_KEY = "sk-test-globex-000000000";

  private Callers() {}

  static RequestSpecification acme() {
    return given().header("Authorization", "Bearer " + ACME_KEY);
  }

  static RequestSpecification globex() {
    return given().header("Authorization", "Bearer " + GLOBEX_KEY);
  }
}
