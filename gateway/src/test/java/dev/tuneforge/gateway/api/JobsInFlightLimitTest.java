package dev.tuneforge.gateway.api;

import static dev.tuneforge.gateway.api.Callers.acme;
import static dev.tuneforge.gateway.api.Callers.globex;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.testing.RealStackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A tenant may have a bounded number of unfinished jobs (two here, set for acme alone): the next
 * create is answered 429 in OpenAI's shape, naming the key, another tenant keeps the default (three
 * creates pass), and a cancel frees a place.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
@TestProfile(JobsInFlightLimitTest.Two.class)
class JobsInFlightLimitTest {
  public static final class Two implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tuneforge.limits.tenants.acme.jobs-in-flight", "2");
    }
  }

  @Inject ObjectStore store;

  static String create(
      io.restassured.specification.RequestSpecification as, String file, int status) {
    return as.contentType(ContentType.JSON)
        .body("{\"model\": \"tiny-llama\", \"training_file\": \"" + file + "\"}")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(status)
        .extract()
        .path(status == 200 ? "id" : "error.code");
  }

  @Test
  void theNextCreatePastTheLimitIsRefusedUntilOneFinishes() {
    store.ensureBucket();
    store.put("models/tiny-llama/config.json", "{}".getBytes(), "application/json");
    String mine = FilesAndTenantsTest.upload(acme(), "a.jsonl", FilesAndTenantsTest.CHAT);
    String first = create(acme(), mine, 200);
    create(acme(), mine, 200);
    acme()
        .contentType(ContentType.JSON)
        .body("{\"model\": \"tiny-llama\", \"training_file\": \"" + mine + "\"}")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(429)
        .body("error.code", equalTo("rate_limit_exceeded"))
        .body("error.message", containsString("tenant acme has 2 fine-tuning jobs"))
        .body("error.message", containsString("(tuneforge.limits.tenants.acme.jobs-in-flight)"));
    String theirs = FilesAndTenantsTest.upload(globex(), "b.jsonl", FilesAndTenantsTest.CHAT);
    for (int i = 0; i < 3; i++) {
      create(globex(), theirs, 200);
    }
    acme().post("/v1/fine_tuning/jobs/" + first + "/cancel").then().statusCode(200);
    create(acme(), mine, 200);
  }
}
