package dev.tuneforge.testing;

import io.restassured.RestAssured;
import io.restassured.filter.Filter;
import java.util.List;

/**
 * Tests of an internal service (eval-service, reward-service) call it as the gateway does, with the
 * service credential of the test profile ({@code %test.tuneforge.service-token}) on every
 * RestAssured request, from {@code @ExtendWith(ServiceCredential.class)} on the test class. A
 * request that sets {@link #WITHOUT} is sent without it, to check the refusal.
 */
public final class ServiceCredential
    implements org.junit.jupiter.api.extension.BeforeAllCallback,
        org.junit.jupiter.api.extension.AfterAllCallback {
  /** The token the test profiles configure. */
  public static final String TEST_TOKEN = "test-service-token";

  /** Set this header (any value) on a request to send it without the credential. */
  public static final String WITHOUT = "X-Test-Without-Service-Credential";

  private static final String HEADER = "X-TuneForge-Service-Token";

  private static final Filter ADD =
      (request, response, context) -> {
        if (request.getHeaders().hasHeaderWithName(WITHOUT)) {
          request.removeHeader(WITHOUT);
        } else if (!request.getHeaders().hasHeaderWithName(HEADER)) {
          request.header(HEADER, TEST_TOKEN);
        }
        return context.next(request, response);
      };

  /** Sends the credential on every request of the class. */
  @Override
  public void beforeAll(org.junit.jupiter.api.extension.ExtensionContext context) {
    RestAssured.replaceFiltersWith(List.of(ADD));
  }

  /** Stops sending it. */
  @Override
  public void afterAll(org.junit.jupiter.api.extension.ExtensionContext context) {
    RestAssured.replaceFiltersWith(List.of());
  }
}
