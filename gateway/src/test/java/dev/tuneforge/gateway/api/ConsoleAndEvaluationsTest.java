package dev.tuneforge.gateway.api;

import static dev.tuneforge.gateway.api.Callers.acme;
import static dev.tuneforge.gateway.api.Callers.globex;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The web console is served under / without a key (its pages call the API with the key the person
 * signs in with), its chart library comes from the jar (no CDN), and a job's evaluations are read
 * through the API by the job's owner only.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class ConsoleAndEvaluationsTest {
  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;

  @Test
  void theConsoleAndItsChartLibraryAreServedFromTheGateway() {
    given()
        .get("/")
        .then()
        .statusCode(200)
        .contentType(containsString("text/html"))
        .body(containsString("/console/console.js"))
        .body(not(containsString("https://")));
    for (String asset :
        new String[] {
          "/console/console.js",
          "/console/api.js",
          "/console/files.js",
          "/console/jobs.js",
          "/console/newjob.js",
          "/console/evaluation.js",
          "/console/playground.js",
          "/console/console.css",
          "/webjars/uplot/1.6.30/dist/uPlot.iife.min.js",
          "/webjars/uplot/1.6.30/dist/uPlot.min.css"
        }) {
      given().get(asset).then().statusCode(200);
    }
    // the API behind it still wants the key
    given().get("/v1/files").then().statusCode(401);
  }

  @Inject dev.tuneforge.platform.storage.Artifacts artifacts;

  /** The prepared dataset's statistics, in the API's snake_case, once committed; owner only. */
  @Test
  void aJobsDatasetStatisticsAreReadOnceCommitted() throws Exception {
    store.ensureBucket();
    String job = "ftjob-" + UUID.randomUUID().toString().replace("-", "");
    kafka.publish(FineTuningJobsResourceTest.status(job, JobStatusChanged.Status.TRAINING));
    FineTuningJobsResourceTest.awaitStatus(job, "running");
    acme().get("/v1/fine_tuning/jobs/" + job + "/dataset").then().statusCode(404);
    String stats =
        """
        {"inputRecords": 600, "splits": {"train": 480, "validation": 60, "test": 60},
         "tokens": {"total": 9000, "min": 12, "median": 15, "p95": 16, "max": 17, "mean": 15.0},
         "tokenHistogram": {"<=16": 590, "<=32": 10}, "roles": {"user": 600, "assistant": 600},
         "meanTurns": 2.0, "labels": {"even": 300, "odd": 300}, "exactDuplicatesRemoved": 0,
         "nearDuplicatesRemoved": 0, "dropped": {"too_long": 2}}
        """;
    try (dev.tuneforge.platform.storage.ArtifactWriter writer =
        artifacts.begin("datasets/" + job + "/")) {
      writer.put("stats.json", stats.getBytes(StandardCharsets.UTF_8), "application/json");
      writer.commit(java.util.Map.of("job_id", job));
    }
    acme()
        .get("/v1/fine_tuning/jobs/" + job + "/dataset")
        .then()
        .statusCode(200)
        .body("input_records", equalTo(600))
        .body("token_histogram.'<=16'", equalTo(590))
        .body("labels.even", equalTo(300))
        .body("dropped.too_long", equalTo(2))
        .body("exact_duplicates_removed", equalTo(0));
    globex().get("/v1/fine_tuning/jobs/" + job + "/dataset").then().statusCode(404);
  }

  @Test
  void evaluationsAreListedAndReadByTheJobsOwnerOnly() {
    store.ensureBucket();
    String job = "ftjob-" + UUID.randomUUID().toString().replace("-", "");
    kafka.publish(FineTuningJobsResourceTest.status(job, JobStatusChanged.Status.SUCCEEDED));
    FineTuningJobsResourceTest.awaitStatus(job, "succeeded");
    String report =
        """
        {"job_id": "%s", "checkpoint": "jobs/%s/final/", "base_model": "tiny-llama",
         "split": "test", "generation": {"do_sample": false}, "reward_model": null,
         "metrics": {"perplexity": {"base": 255.2, "tuned": 84.3, "delta": -170.9},
                     "bleu": {"base": NaN, "tuned": NaN, "delta": NaN}},
         "samples": [{"prompt": "Is 4 even?", "reference": "even", "base": "odd", "tuned": "even"},
                     {"prompt": "Is 5 even?", "reference": "odd", "base": "odd", "tuned": "odd"}]}
        """
            .formatted(job, job);
    store.put(
        "jobs/" + job + "/evals/final.json",
        report.getBytes(StandardCharsets.UTF_8),
        "application/json");

    acme()
        .get("/v1/fine_tuning/jobs/" + job + "/evaluations")
        .then()
        .statusCode(200)
        .body("data", hasSize(1))
        .body("data[0].checkpoint_id", equalTo("final"))
        .body("data[0].metrics.perplexity.delta", equalTo(-170.9f))
        .body("data[0].samples", nullValue());
    acme()
        .get("/v1/fine_tuning/jobs/" + job + "/evaluations/final")
        .then()
        .statusCode(200)
        .body("samples", hasSize(2))
        .body("samples[0].tuned", equalTo("even"));
    acme()
        .get("/v1/fine_tuning/jobs/" + job + "/evaluations/step-9")
        .then()
        .statusCode(404)
        .body("error.param", equalTo("checkpoint"));
    acme().get("/v1/fine_tuning/jobs/" + job + "/evaluations/..%2Ffinal").then().statusCode(404);
    globex().get("/v1/fine_tuning/jobs/" + job + "/evaluations").then().statusCode(404);
    globex().get("/v1/fine_tuning/jobs/" + job + "/evaluations/final").then().statusCode(404);
  }
}
