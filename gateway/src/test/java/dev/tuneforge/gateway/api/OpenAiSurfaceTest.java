package dev.tuneforge.gateway.api;

import static dev.tuneforge.gateway.api.Callers.acme;
import static dev.tuneforge.gateway.api.Callers.globex;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneforge.gateway.job.JobViews;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.testing.RealStackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What OpenAI's SDK calls and reads: the models list and retrieve (bases and the caller's own
 * fine-tuned models only), file content, and errors that are JSON in OpenAI's shape for a malformed
 * body, an unknown URL, a wrong method and a wrong media type.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class OpenAiSurfaceTest {
  @Inject ObjectStore store;
  @Inject JobViews views;

  @BeforeEach
  void seed() {
    store.ensureBucket();
    store.put("models/tiny-llama/config.json", "{}".getBytes(), "application/json");
    String job = "models-job";
    views.submitted(SampleEvents.jobSpec(job).toBuilder().setSuffix("bot").build(), 1_700_000_000L);
    views.apply(
        "done",
        JobStatusChanged.newBuilder()
            .setJobId(job)
            .setTenant("acme")
            .setStatus(JobStatusChanged.Status.SUCCEEDED)
            .setResultPrefix("jobs/" + job + "/final/")
            .build());
  }

  @Test
  void modelsListBasesAndTheCallersOwnFineTunedModels() {
    String tuned = "ft:tiny-llama:acme:bot:models-job";
    acme()
        .get("/v1/models")
        .then()
        .statusCode(200)
        .body("object", equalTo("list"))
        .body("data.id", hasItem("tiny-llama"))
        .body("data.id", hasItem(tuned))
        .body("data.find { it.id == 'tiny-llama' }.owned_by", equalTo("tuneforge"));
    acme().get("/v1/models/" + tuned).then().statusCode(200).body("owned_by", equalTo("acme"));
    globex().get("/v1/models").then().body("data.id", not(hasItem(tuned)));
    globex()
        .get("/v1/models/" + tuned)
        .then()
        .statusCode(404)
        .body("error.code", equalTo("model_not_found"));
  }

  @Test
  void fileContentIsTheUploadForItsTenantOnly() {
    String id = FilesAndTenantsTest.upload(acme(), "train.jsonl", FilesAndTenantsTest.CHAT);
    String body =
        acme().get("/v1/files/" + id + "/content").then().statusCode(200).extract().asString();
    assertEquals(FilesAndTenantsTest.CHAT, body);
    // The OpenAI SDK's files.content asks for application/binary.
    String asked =
        acme()
            .accept("application/binary")
            .get("/v1/files/" + id + "/content")
            .then()
            .statusCode(200)
            .contentType("application/octet-stream")
            .extract()
            .asString();
    assertEquals(FilesAndTenantsTest.CHAT, asked);
    globex().get("/v1/files/" + id + "/content").then().statusCode(404);
  }

  @Test
  void errorsAreJsonInOpenAisShape() {
    acme()
        .contentType(ContentType.JSON)
        .body("{\"model\": ")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(400)
        .contentType(ContentType.JSON)
        .body("error.type", equalTo("invalid_request_error"))
        .body("error.code", equalTo("invalid_json"));
    acme()
        .get("/v1/no/such/route")
        .then()
        .statusCode(404)
        .contentType(ContentType.JSON)
        .body("error.code", equalTo("unknown_url"))
        .body("error.message", containsString("GET /v1/no/such/route"));
    acme()
        .delete("/v1/fine_tuning/jobs")
        .then()
        .statusCode(405)
        .contentType(ContentType.JSON)
        .body("error.message", containsString("not allowed"));
    acme()
        .contentType(ContentType.TEXT)
        .body("hello")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(415)
        .contentType(ContentType.JSON)
        .body("error.message", containsString("Unsupported media type"));
  }

  /**
   * Limits of the HTTP layer itself answer in OpenAI's shape too: a body over {@code
   * quarkus.http.limits.max-body-size} (1 MiB in the test profile) and a URL over the request
   * line's limit.
   */
  @Test
  void httpLimitsAnswerJson() {
    acme()
        .contentType(ContentType.JSON)
        .body("{\"model\": \"" + "x".repeat(2 << 20) + "\"}")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(413)
        .contentType(ContentType.JSON)
        .body("error.type", equalTo("invalid_request_error"))
        .body("error.code", equalTo("request_too_large"))
        .body("error.message", containsString("than the 1048576 bytes accepted"));
    acme()
        .get("/v1/fine_tuning/jobs/" + "a".repeat(20_000))
        .then()
        .statusCode(414)
        .contentType(ContentType.JSON)
        .body("error.code", equalTo("uri_too_long"))
        .body("error.message", containsString("8192"));
  }

  /** A multipart body cut off before its closing boundary is a 400 naming the problem. */
  @Test
  void aTruncatedMultipartUploadIsRefused() {
    acme()
        .contentType("multipart/form-data; boundary=XyZ")
        .body(
            ("--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
                    + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n"
                    + "Content-Type: application/octet-stream\r\n\r\n{\"text\": \"cut off")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .post("/v1/files")
        .then()
        .statusCode(400)
        .contentType(ContentType.JSON)
        .body("error.type", equalTo("invalid_request_error"))
        .body("error.code", equalTo("invalid_multipart"));
  }
}
