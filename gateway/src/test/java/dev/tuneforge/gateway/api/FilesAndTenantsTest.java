package dev.tuneforge.gateway.api;

import static dev.tuneforge.gateway.api.Callers.acme;
import static dev.tuneforge.gateway.api.Callers.globex;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.v1.JobCancelRequested;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * API keys, files and the tenant wall: every read, cancel and delete of another tenant's file or
 * job answers 404 and lists show nothing of it; uploads are capped, and a file name that tries to
 * be a path is refused.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class FilesAndTenantsTest {
  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;

  static final String CHAT =
      "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"yo\"}]}\n";

  /** The tiny-llama base registered and a chat training file of acme's; returns its id. */
  static String baseAndTrainingFile(ObjectStore store) {
    store.ensureBucket();
    store.put("models/tiny-llama/config.json", "{}".getBytes(), "application/json");
    return upload(Callers.acme(), "train.jsonl", CHAT);
  }

  static String upload(RequestSpecification as, String name, String content) {
    return as.multiPart("file", name, content.getBytes(StandardCharsets.UTF_8))
        .multiPart("purpose", "fine-tune")
        .post("/v1/files")
        .then()
        .statusCode(200)
        .body("object", equalTo("file"))
        .body("filename", equalTo(name))
        .body("purpose", equalTo("fine-tune"))
        .body("bytes", equalTo(content.length()))
        .extract()
        .path("id");
  }

  @Test
  void requestsWithoutAValidKeyAreRefusedInOpenAisShape() {
    given()
        .get("/v1/fine_tuning/jobs")
        .then()
        .statusCode(401)
        .body("error.code", equalTo("missing_api_key"))
        .body("error.type", equalTo("invalid_request_error"));
    given()
        .header("Authorization", "Bearer sk-not-a-key-00000000000")
        .get("/v1/files")
        .then()
        .statusCode(401)
        .body("error.code", equalTo("invalid_api_key"));
    given().get("/q/health/ready").then().statusCode(200);
  }

  @Test
  void filesUploadListReadAndDelete() {
    store.ensureBucket();
    String id = upload(acme(), "chat.jsonl", CHAT);
    assertTrue(id.matches("file-[a-f0-9]{24}"), id);
    assertEquals(
        CHAT, new String(store.getBytes("files/acme/" + id + "/content"), StandardCharsets.UTF_8));
    acme().get("/v1/files").then().statusCode(200).body("data.id", hasItem(id));
    acme().get("/v1/files/" + id).then().statusCode(200).body("filename", equalTo("chat.jsonl"));
    acme().delete("/v1/files/" + id).then().statusCode(200).body("deleted", equalTo(true));
    acme()
        .get("/v1/files/" + id)
        .then()
        .statusCode(404)
        .body("error.code", equalTo("file_not_found"));
    assertTrue(store.list("files/acme/" + id + "/").isEmpty());
  }

  @Test
  void uploadsAreValidated() {
    store.ensureBucket();
    for (String name : List.of("../../etc/passwd", "a/b.jsonl", "..", ".hidden", "x\\y.jsonl")) {
      acme()
          .multiPart("file", name, CHAT.getBytes(StandardCharsets.UTF_8))
          .multiPart("purpose", "fine-tune")
          .post("/v1/files")
          .then()
          .statusCode(400)
          .body("error.param", equalTo("file"))
          .body("error.message", containsString("is not allowed"));
    }
    assertTrue(
        store.list("files/acme/").stream().noneMatch(o -> o.key().contains("passwd")),
        "nothing written for a refused name");
    acme()
        .multiPart("file", "big.jsonl", "x".repeat(5000).getBytes(StandardCharsets.UTF_8))
        .multiPart("purpose", "fine-tune")
        .post("/v1/files")
        .then()
        .statusCode(413)
        .body("error.code", equalTo("file_too_large"));
    acme()
        .multiPart("file", "chat.jsonl", CHAT.getBytes(StandardCharsets.UTF_8))
        .multiPart("purpose", "assistants")
        .post("/v1/files")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("purpose"));
  }

  @Test
  void anotherTenantsFilesAndJobsAreInvisible() {
    store.ensureBucket();
    String file = upload(acme(), "mine.jsonl", CHAT);
    String job = "job-" + UUID.randomUUID();
    kafka.publish(FineTuningJobsResourceTest.status(job, JobStatusChanged.Status.QUEUED));
    Awaitility.await()
        .atMost(TestKafka.TIMEOUT)
        .untilAsserted(() -> acme().get("/v1/fine_tuning/jobs/" + job).then().statusCode(200));

    // The matrix: each read, cancel and delete as globex gets the same 404 as a missing object.
    List<Supplier<io.restassured.response.Response>> asGlobex =
        List.of(
            () -> globex().get("/v1/files/" + file),
            () -> globex().delete("/v1/files/" + file),
            () -> globex().get("/v1/fine_tuning/jobs/" + job),
            () -> globex().get("/v1/fine_tuning/jobs/" + job + "/events"),
            () -> globex().get("/v1/fine_tuning/jobs/" + job + "/checkpoints"),
            () -> globex().post("/v1/fine_tuning/jobs/" + job + "/cancel"));
    for (Supplier<io.restassured.response.Response> call : asGlobex) {
      call.get().then().statusCode(404);
    }
    globex().get("/v1/files").then().statusCode(200).body("data.id", not(hasItem(file)));
    globex().get("/v1/fine_tuning/jobs").then().statusCode(200).body("data.id", not(hasItem(job)));
    // still there for its owner, and no cancel was published by globex's attempt
    acme().get("/v1/files/" + file).then().statusCode(200);
    assertTrue(
        kafka.readAll(dev.tuneforge.proto.Topics.JOBS_CONTROL, r -> job.equals(r.key())).isEmpty(),
        "globex's cancel published nothing");
    acme().post("/v1/fine_tuning/jobs/" + job + "/cancel").then().statusCode(200);
    kafka.awaitEvents(JobCancelRequested.class, 1, c -> job.equals(c.getJobId()));
  }

  @Test
  void aModelUrlOutsideTheRegisteredBasesIsRefused() {
    store.ensureBucket();
    String file = upload(globex(), "theirs.jsonl", CHAT);
    // Another tenant's full fine-tune leaves a Hugging Face layout under jobs/; its URL names no
    // owner, so only s3://.../models/ is a base a job may name.
    String job = "ftjob-" + UUID.randomUUID().toString().replace("-", "");
    store.put("jobs/" + job + "/final/config.json", "{}".getBytes(), "application/json");
    store.put("models/tiny-llama/config.json", "{}".getBytes(), "application/json");
    for (String model :
        List.of(
            "s3://" + store.bucket() + "/jobs/" + job + "/final/",
            "s3://" + store.bucket() + "/files/acme/")) {
      globex()
          .contentType(io.restassured.http.ContentType.JSON)
          .body("{\"model\": \"" + model + "\", \"training_file\": \"" + file + "\"}")
          .post("/v1/fine_tuning/jobs")
          .then()
          .statusCode(400)
          .body("error.param", equalTo("model"))
          .body("error.message", containsString("is not a registered base model"));
    }
    globex()
        .contentType(io.restassured.http.ContentType.JSON)
        .body(
            "{\"model\": \"s3://"
                + store.bucket()
                + "/models/tiny-llama\", \"training_file\": \""
                + file
                + "\"}")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(200);
  }

  @Test
  void jobListsPageNewestFirst() {
    List<String> jobs = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String job = "page-" + i + "-" + UUID.randomUUID();
      jobs.add(job);
      JobStatusChanged status =
          FineTuningJobsResourceTest.status(job, JobStatusChanged.Status.QUEUED).toBuilder()
              .setTime(com.google.protobuf.util.Timestamps.fromSeconds(4_000_000_000L + i))
              .build();
      kafka.publish(status);
    }
    Awaitility.await()
        .atMost(TestKafka.TIMEOUT)
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              for (String job : jobs) {
                acme().get("/v1/fine_tuning/jobs/" + job).then().statusCode(200);
              }
            });
    acme()
        .queryParam("limit", 2)
        .get("/v1/fine_tuning/jobs")
        .then()
        .body("data", hasSize(2))
        .body("data[0].id", equalTo(jobs.get(2)))
        .body("data[1].id", equalTo(jobs.get(1)))
        .body("has_more", equalTo(true));
    acme()
        .queryParam("limit", 1)
        .queryParam("after", jobs.get(1))
        .get("/v1/fine_tuning/jobs")
        .then()
        .body("data[0].id", equalTo(jobs.get(0)));
    acme()
        .queryParam("limit", 0)
        .get("/v1/fine_tuning/jobs")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("limit"));
  }

  @Test
  void theOpenApiDocumentDescribesTheApi() {
    given()
        .get("/q/openapi")
        .then()
        .statusCode(200)
        .body(containsString("/v1/fine_tuning/jobs"))
        .body(containsString("/v1/files"));
    // the chat request body is an object, not a string
    given()
        .accept("application/json")
        .get("/q/openapi?format=json")
        .then()
        .body(
            "paths.'/v1/chat/completions'.post.requestBody.content.'application/json'.schema.type",
            equalTo("object"));
  }
}
