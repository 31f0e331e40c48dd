package dev.tuneforge.gateway.api;

import static dev.tuneforge.gateway.api.Callers.acme;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import com.google.protobuf.util.Timestamps;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.Topics;
import dev.tuneforge.proto.v1.JobCancelRequested;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.testing.ChannelContract;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class FineTuningJobsResourceTest {
  private final TestKafka kafka = TestKafka.shared();
  @jakarta.inject.Inject dev.tuneforge.platform.storage.ObjectStore store;

  static JobStatusChanged status(String jobId, JobStatusChanged.Status status) {
    return JobStatusChanged.newBuilder()
        .setJobId(jobId)
        .setTenant("acme")
        .setStatus(status)
        .setService("test")
        .setTime(Timestamps.now())
        .setSpec(SampleEvents.jobSpec(jobId))
        .build();
  }

  static void awaitStatus(String jobId, String openAiStatus) {
    Awaitility.await()
        .atMost(TestKafka.TIMEOUT)
        .untilAsserted(
            () ->
                acme()
                    .get("/v1/fine_tuning/jobs/" + jobId)
                    .then()
                    .statusCode(200)
                    .body("status", equalTo(openAiStatus)));
  }

  @Test
  void statusEventsBuildTheOpenAiShapedJobView() {
    String jobId = "job-" + UUID.randomUUID();
    kafka.publish(status(jobId, JobStatusChanged.Status.PREPARING_DATA));
    kafka.publish(status(jobId, JobStatusChanged.Status.TRAINING));
    kafka.publish(SampleEvents.trainingProgress(jobId));

    awaitStatus(jobId, "running");
    acme()
        .get("/v1/fine_tuning/jobs/" + jobId)
        .then()
        .body("object", equalTo("fine_tuning.job"))
        .body("tuneforge_status", equalTo("TRAINING"))
        .body("model", equalTo("tiny-llama"))
        .body("tuneforge_method", equalTo("qlora"))
        .body("method.type", equalTo("supervised"))
        .body("method.supervised.hyperparameters.n_epochs", equalTo(2.0f))
        .body("organization_id", equalTo("acme"))
        .body("seed", equalTo(42))
        .body("result_files", hasSize(0))
        .body("training_file", equalTo("uploads/acme/chat.jsonl"));
    Awaitility.await()
        .atMost(TestKafka.TIMEOUT)
        .untilAsserted(
            () ->
                acme()
                    .get("/v1/fine_tuning/jobs/" + jobId + "/events")
                    .then()
                    .body("data", hasSize(3))
                    // status and progress arrive on different topics: their order is not fixed
                    .body("data.findAll { it.type == 'metrics' }", hasSize(1))
                    .body("data.find { it.type == 'metrics' }.data.train_loss", equalTo(1.25f)));
    ChannelContract.assertReadyAndCounting(Topics.JOBS_STATUS);
  }

  /** Events come newest first, as OpenAI lists them, paged by limit and after. */
  @Test
  void eventsAreNewestFirstAndPaged() {
    String jobId = "job-" + UUID.randomUUID();
    kafka.publish(status(jobId, JobStatusChanged.Status.PREPARING_DATA));
    kafka.publish(status(jobId, JobStatusChanged.Status.QUEUED));
    kafka.publish(status(jobId, JobStatusChanged.Status.TRAINING));
    awaitStatus(jobId, "running");
    io.restassured.response.Response first =
        acme().get("/v1/fine_tuning/jobs/" + jobId + "/events?limit=2");
    first
        .then()
        .body("data", hasSize(2))
        .body("has_more", equalTo(true))
        .body("data[0].message", org.hamcrest.Matchers.startsWith("TRAINING"))
        .body("data[1].message", org.hamcrest.Matchers.startsWith("QUEUED"));
    String after = first.path("data[1].id");
    acme()
        .get("/v1/fine_tuning/jobs/" + jobId + "/events?limit=2&after=" + after)
        .then()
        .body("data", hasSize(1))
        .body("has_more", equalTo(false))
        .body("data[0].message", org.hamcrest.Matchers.startsWith("PREPARING_DATA"));
  }

  @Test
  void unknownJobIsANamedNotFound() {
    acme()
        .get("/v1/fine_tuning/jobs/no-such-job")
        .then()
        .statusCode(404)
        .body("error.code", equalTo("job_not_found"))
        .body("error.message", containsString("no-such-job"));
  }

  /**
   * A cancel holds at any stage: the job reads back cancelled at once, the cancel is recorded in
   * storage for the services that have not reached the job yet, and both the stop request and the
   * CANCELLED status (with the job's spec) are published. A second cancel, or one of a finished
   * job, is refused in OpenAI's shape and publishes nothing (late events are JobViewsTest's).
   */
  @Test
  void cancelHoldsAtEveryStageAndFinishedJobsRefuseIt() {
    store.ensureBucket();
    String jobId = "job-" + UUID.randomUUID();
    kafka.publish(status(jobId, JobStatusChanged.Status.PREPARING_DATA));
    awaitStatus(jobId, "validating_files");

    acme()
        .post("/v1/fine_tuning/jobs/" + jobId + "/cancel")
        .then()
        .statusCode(200)
        .body("status", equalTo("cancelled"));
    kafka.awaitEvents(JobCancelRequested.class, 1, c -> jobId.equals(c.getJobId()));
    // The CANCELLED status carries the spec: a gateway that restarts rebuilds the job from it.
    kafka.await(
        Topics.JOBS_STATUS,
        1,
        r ->
            jobId.equals(r.key())
                && r.value().contains("\"CANCELLED\"")
                && r.value().contains("\"spec\""));
    org.junit.jupiter.api.Assertions.assertTrue(
        store.stat(dev.tuneforge.proto.JobLifecycle.cancelledMarker(jobId)).isPresent(),
        "the cancel is recorded in storage");
    acme()
        .post("/v1/fine_tuning/jobs/" + jobId + "/cancel")
        .then()
        .statusCode(400)
        .body("error.code", equalTo("job_not_cancellable"))
        .body("error.param", equalTo("id"));

    String done = "job-" + UUID.randomUUID();
    kafka.publish(status(done, JobStatusChanged.Status.FAILED));
    awaitStatus(done, "failed");
    acme()
        .post("/v1/fine_tuning/jobs/" + done + "/cancel")
        .then()
        .statusCode(400)
        .body("error.message", containsString("has already failed"));
  }

  @Test
  void malformedRecordsGoToTheirDeadLetterTopics() {
    ChannelContract.assertDeadLettered(
        kafka,
        Topics.JOBS_STATUS,
        "{\"job_id\":\"j\",\"status\":\"DONE\"}",
        "JobStatusChanged.status");
    ChannelContract.assertDeadLettered(
        kafka, Topics.TRAINING_PROGRESS, "{\"step\":3}", "TrainingProgress.job_id is required");
    ChannelContract.assertDeadLettered(
        kafka,
        Topics.EVALS_COMPLETED,
        "{\"job_id\":\"j\",\"checkpoint_id\":\"c\"}",
        "EvalCompleted.metrics is required but was empty");
  }

  @Test
  void sameCeIdDeliveredTwiceIsHandledOnce() {
    String jobA = "dup-" + UUID.randomUUID();
    String jobB = "after-" + UUID.randomUUID();
    String ceId = UUID.randomUUID().toString();
    kafka.publish(status(jobA, JobStatusChanged.Status.QUEUED), ceId);
    kafka.publish(status(jobA, JobStatusChanged.Status.QUEUED), ceId);
    kafka.publish(status(jobB, JobStatusChanged.Status.QUEUED));

    awaitStatus(jobB, "queued");
    acme().get("/v1/fine_tuning/jobs/" + jobA + "/events").then().body("data", hasSize(1));
  }

  @Test
  void noAcknowledgedStatusIsLostWhenTheBrokerRestarts() {
    String before = "restart-a-" + UUID.randomUUID();
    String after = "restart-b-" + UUID.randomUUID();
    kafka.publish(status(before, JobStatusChanged.Status.QUEUED));
    RealStackResource.kafka().restart();
    kafka.publish(status(after, JobStatusChanged.Status.QUEUED));

    awaitStatus(before, "queued");
    awaitStatus(after, "queued");
  }

  @Test
  void jobStatusTopicIsCompactedAndEveryDeadLetterTopicExists() throws Exception {
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(
            java.util.Map.of("bootstrap.servers", RealStackResource.kafka().bootstrapServers()))) {
      var resource =
          new org.apache.kafka.common.config.ConfigResource(
              org.apache.kafka.common.config.ConfigResource.Type.TOPIC, Topics.JOBS_STATUS);
      String policy =
          admin
              .describeConfigs(java.util.List.of(resource))
              .all()
              .get()
              .get(resource)
              .get("cleanup.policy")
              .value();
      org.junit.jupiter.api.Assertions.assertEquals("compact", policy);
      java.util.Set<String> names = admin.listTopics().names().get();
      for (String topic : Topics.ALL) {
        org.junit.jupiter.api.Assertions.assertTrue(names.contains(Topics.dlq(topic)), topic);
      }
    }
  }
}
