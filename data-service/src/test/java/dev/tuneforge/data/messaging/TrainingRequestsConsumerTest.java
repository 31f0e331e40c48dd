package dev.tuneforge.data.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneforge.proto.CloudEventHeaders;
import dev.tuneforge.proto.EventCodec;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.Topics;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.testing.ChannelContract;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class TrainingRequestsConsumerTest {
  private final TestKafka kafka = TestKafka.shared();
  @jakarta.inject.Inject dev.tuneforge.platform.storage.ObjectStore store;

  /**
   * A spec published straight to Kafka is held to the rules the gateway applies at create time: one
   * the trainer could not run fails at once, naming the field, instead of being prepared.
   */
  @Test
  void aSpecBreakingTheRulesFailsTheJobNamingTheField() {
    String job = "rules-" + UUID.randomUUID();
    var spec = SampleEvents.jobSpec(job).toBuilder();
    spec.getHyperparametersBuilder().setNumTrainEpochs(Double.POSITIVE_INFINITY);
    kafka.publish(SampleEvents.trainingRequested(job).toBuilder().setSpec(spec).build());
    JobStatusChanged failed = kafka.awaitStatus(job, JobStatusChanged.Status.FAILED);
    assertEquals("hyperparameters.num_train_epochs", failed.getError().getParam());
    assertEquals(
        1, kafka.readAll(Topics.JOBS_STATUS, r -> job.equals(r.key())).size(), "only the failure");
  }

  /**
   * A request for a job the gateway already cancelled, or for one that ended (a replayed record),
   * is not prepared: nothing is published for it, while the next request is handled.
   */
  @Test
  void cancelledAndEndedJobsAreNotPreparedAgain() {
    store.ensureBucket();
    String cancelled = "cancelled-" + UUID.randomUUID();
    String ended = "ended-" + UUID.randomUUID();
    store.put(
        dev.tuneforge.proto.JobLifecycle.cancelledMarker(cancelled),
        "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        "application/json");
    store.put(
        "jobs/" + ended + "/ended.json",
        "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        "application/json");
    String next = "next-" + UUID.randomUUID();
    kafka.publish(SampleEvents.trainingRequested(cancelled));
    kafka.publish(SampleEvents.trainingRequested(ended));
    kafka.publish(SampleEvents.trainingRequested(next));
    kafka.await(Topics.JOBS_STATUS, 1, r -> next.equals(r.key()));
    for (String job : new String[] {cancelled, ended}) {
      assertEquals(0, kafka.readAll(Topics.JOBS_STATUS, r -> job.equals(r.key())).size(), job);
    }
  }

  @Test
  void trainingRequestMovesTheJobToPreparingData() {
    String jobId = "job-" + UUID.randomUUID();
    kafka.publish(SampleEvents.trainingRequested(jobId));

    ConsumerRecord<String, String> record =
        kafka.await(Topics.JOBS_STATUS, 1, r -> jobId.equals(r.key())).get(0);
    JobStatusChanged status = EventCodec.parse(record.value(), JobStatusChanged.class);
    assertEquals(JobStatusChanged.Status.PREPARING_DATA, status.getStatus());
    assertEquals(SampleEvents.jobSpec(jobId), status.getSpec());
    assertEquals(
        "/tuneforge/data-service",
        TestKafka.header(record, CloudEventHeaders.SOURCE).orElseThrow());
    assertEquals(
        "dev.tuneforge.JobStatusChanged.v1",
        TestKafka.header(record, CloudEventHeaders.TYPE).orElseThrow());
    ChannelContract.assertReadyAndCounting(Topics.TRAINING_REQUESTS);
  }

  @Test
  void malformedRequestGoesToDeadLetterTopicWithTheReason() {
    String missingJobId =
        EventCodec.toJson(
            SampleEvents.trainingRequested("x").toBuilder()
                .setSpec(SampleEvents.jobSpec(""))
                .build());
    ChannelContract.assertDeadLettered(
        kafka,
        Topics.TRAINING_REQUESTS,
        missingJobId,
        "TrainingRequested.spec.job_id is required but was empty");
    ChannelContract.assertDeadLettered(
        kafka, Topics.TRAINING_REQUESTS, "{not json", "TrainingRequested");
  }

  /**
   * Ids that would escape their object prefix, and records without CloudEvents headers (a valid
   * payload from a console producer), go to the dead-letter topic instead of being run.
   */
  @Test
  void unsafeIdsAndMissingHeadersGoToTheDeadLetterTopic() {
    for (String[] bad : new String[][] {{"../x", "acme"}, {"job-ok", "../acme"}}) {
      String unsafe =
          EventCodec.toJson(
              SampleEvents.trainingRequested("x").toBuilder()
                  .setSpec(SampleEvents.jobSpec(bad[0]).toBuilder().setTenant(bad[1]))
                  .build());
      ChannelContract.assertDeadLettered(
          kafka, Topics.TRAINING_REQUESTS, unsafe, "must be letters, digits");
    }
    ChannelContract.assertDeadLettered(
        kafka,
        Topics.TRAINING_REQUESTS,
        EventCodec.toJson(SampleEvents.trainingRequested("job-" + UUID.randomUUID())),
        "no CloudEvents header ce_id");
  }

  @Test
  void sameCeIdDeliveredTwiceIsHandledOnce() {
    // Each request yields several statuses (accepted, then prepared or failed); count acceptances.
    ChannelContract.assertDuplicateHandledOnce(
        kafka,
        SampleEvents::trainingRequested,
        JobStatusChanged.class,
        status ->
            status.getReason().startsWith(TrainingRequestsConsumer.ACCEPTED)
                ? status.getJobId()
                : "");
  }
}
