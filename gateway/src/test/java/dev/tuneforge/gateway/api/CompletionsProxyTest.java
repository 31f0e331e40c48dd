package dev.tuneforge.gateway.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.tuneforge.testing.RealStackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Completions pass through the gateway under the caller's key: a tenant's fine-tuned model is
 * served to that tenant only, streams arrive as sent, and the serving side's answers (variant
 * header, errors) come back unchanged.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class CompletionsProxyTest {
  static final String ACME_MODEL = "ft:tiny-llama:acme::ftjob-1";
  @jakarta.inject.Inject dev.tuneforge.gateway.job.JobViews views;

  /** acme's succeeded job ftjob-1 (tiny-llama) and its still-running ftjob-2, as recorded. */
  @org.junit.jupiter.api.BeforeEach
  void recordJobs() {
    for (String job : new String[] {"ftjob-1", "ftjob-2"}) {
      views.submitted(
          dev.tuneforge.proto.v1.JobSpec.newBuilder()
              .setJobId(job)
              .setTenant("acme")
              .setBaseModel(dev.tuneforge.proto.v1.ModelRef.newBuilder().setName("tiny-llama"))
              .build(),
          1_700_000_000L);
    }
    views.apply(
        "succeeded-ftjob-1",
        dev.tuneforge.proto.v1.JobStatusChanged.newBuilder()
            .setJobId("ftjob-1")
            .setTenant("acme")
            .setStatus(dev.tuneforge.proto.v1.JobStatusChanged.Status.SUCCEEDED)
            .setResultPrefix("jobs/ftjob-1/final/")
            .build());
  }

  static Map<String, Object> chat(String model, boolean stream) {
    return Map.of(
        "model",
        model,
        "stream",
        stream,
        "messages",
        java.util.List.of(Map.of("role", "user", "content", "hi")));
  }

  @Test
  void aTenantUsesItsOwnFineTunedModelAndOthersAreToldItDoesNotExist() {
    Callers.acme()
        .contentType(ContentType.JSON)
        .body(chat(ACME_MODEL, false))
        .post("/v1/chat/completions")
        .then()
        .statusCode(200)
        .header("X-TuneForge-Variant", "tuned")
        .body("model", equalTo(ACME_MODEL));
    Callers.globex()
        .contentType(ContentType.JSON)
        .body(chat(ACME_MODEL, false))
        .post("/v1/chat/completions")
        .then()
        .statusCode(404)
        .body("error.code", equalTo("model_not_found"));
    Callers.globex()
        .contentType(ContentType.JSON)
        .body(chat("ab:" + ACME_MODEL, false))
        .post("/v1/chat/completions")
        .then()
        .statusCode(404);
    // The tenant written in a name proves nothing: the job record decides.
    for (String forged :
        new String[] {
          "ft:tiny-llama:globex::ftjob-1", // acme's job under globex's name
          "ft:other-base:acme::ftjob-1", // acme's job under another base
          "ft:tiny-llama:acme::ftjob-2", // not succeeded yet
          "ft:tiny-llama:acme::no-such-job"
        }) {
      for (boolean acme : new boolean[] {false, true}) {
        var caller = acme ? Callers.acme() : Callers.globex();
        caller
            .contentType(ContentType.JSON)
            .body(chat(forged, false))
            .post("/v1/chat/completions")
            .then()
            .statusCode(404)
            .body("error.code", equalTo("model_not_found"));
      }
    }
    Callers.globex()
        .contentType(ContentType.JSON)
        .body(chat("tiny-llama", false))
        .post("/v1/chat/completions")
        .then()
        .statusCode(200)
        .body("model", equalTo("tiny-llama"));
    given()
        .contentType(ContentType.JSON)
        .body(chat("tiny-llama", false))
        .post("/v1/chat/completions")
        .then()
        .statusCode(401);
  }

  /** Ratings and results of an experiment go through for its owner only, named by the record. */
  @Test
  void comparisonsOfAnExperimentAreTheOwnersOnly() {
    Callers.acme()
        .contentType(ContentType.JSON)
        .body(Map.of("experiment", ACME_MODEL, "response_ids", java.util.List.of("a", "b")))
        .post("/v1/feedback/comparisons")
        .then()
        .statusCode(200)
        .body("experiment", equalTo(ACME_MODEL))
        .body("tenant", equalTo("acme"));
    Callers.acme()
        .queryParam("experiment", ACME_MODEL)
        .get("/v1/feedback/comparisons")
        .then()
        .statusCode(200)
        .body("experiment", equalTo(ACME_MODEL))
        .body("tenant", equalTo("acme"));
    for (String experiment :
        new String[] {
          ACME_MODEL, "ft:tiny-llama:globex::ftjob-1", "tiny-llama", "ab:" + ACME_MODEL
        }) {
      Callers.globex()
          .contentType(ContentType.JSON)
          .body(Map.of("experiment", experiment))
          .post("/v1/feedback/comparisons")
          .then()
          .statusCode(404)
          .body("error.param", equalTo("experiment"));
      Callers.globex()
          .queryParam("experiment", experiment)
          .get("/v1/feedback/comparisons")
          .then()
          .statusCode(404);
    }
    Callers.acme().get("/v1/feedback/comparisons").then().statusCode(400);
  }

  @Test
  void streamsAndErrorsPassThrough() {
    Callers.acme()
        .contentType(ContentType.JSON)
        .body(chat(ACME_MODEL, true))
        .post("/v1/chat/completions")
        .then()
        .statusCode(200)
        .contentType(containsString("text/event-stream"))
        .body(containsString("\"content\":\"lo\""))
        .body(containsString("data: [DONE]"));
    Callers.acme()
        .contentType(ContentType.JSON)
        .body(Map.of("response_id", "chatcmpl-x", "rating", "up"))
        .post("/v1/feedback")
        .then()
        .statusCode(404)
        .body("error.param", equalTo("response_id"));
    Callers.acme()
        .contentType(ContentType.JSON)
        .body("{\"messages\": []}")
        .post("/v1/chat/completions")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("model"));
  }
}
