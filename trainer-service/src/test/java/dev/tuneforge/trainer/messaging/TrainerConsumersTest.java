package dev.tuneforge.trainer.messaging;

import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class TrainerConsumersTest {
  private final TestKafka kafka = TestKafka.shared();
  @jakarta.inject.Inject dev.tuneforge.platform.storage.ObjectStore store;

  /** The bucket exists, as it does wherever the services run. */
  @org.junit.jupiter.api.BeforeEach
  void bucket() {
    store.ensureBucket();
  }

  /**
   * A job the gateway cancelled before its dataset was ready (its cancel record in storage) is not
   * queued or run when the dataset arrives: nothing is published for it, while the next job is.
   */
  @Test
  void aJobCancelledBeforeItsDatasetArrivesIsNotRun() {
    String cancelled = "cancelled-" + UUID.randomUUID();
    store.put(
        dev.tuneforge.proto.JobLifecycle.cancelledMarker(cancelled),
        "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        "application/json");
    String next = "next-" + UUID.randomUUID();
    kafka.publish(SampleEvents.datasetPrepared(cancelled));
    kafka.publish(SampleEvents.datasetPrepared(next));
    kafka.awaitEvents(
        JobStatusChanged.class,
        1,
        s -> next.equals(s.getJobId()) && s.getStatus() == JobStatusChanged.Status.QUEUED);
    assertTrue(
        kafka.readAll(Topics.JOBS_STATUS, r -> cancelled.equals(r.key())).isEmpty(),
        "nothing was published for the cancelled job");
  }

  @Test
  void preparedDatasetQueuesTheJobAndAMissingModelFailsItByName() {
    String jobId = "job-" + UUID.randomUUID();
    kafka.publish(SampleEvents.datasetPrepared(jobId));
    kafka.awaitEvents(
        JobStatusChanged.class,
        1,
        s -> jobId.equals(s.getJobId()) && s.getStatus() == JobStatusChanged.Status.QUEUED);
    JobStatusChanged failed = kafka.awaitStatus(jobId, JobStatusChanged.Status.FAILED);
    assertTrue(
        failed.getReason().contains("base model tiny-llama is not in storage"), failed.getReason());
    ChannelContract.assertReadyAndCounting(Topics.DATASETS_PREPARED);
  }

  @Test
  void malformedRecordsGoToTheirDeadLetterTopics() {
    String noSplits =
        EventCodec.toJson(SampleEvents.datasetPrepared("j").toBuilder().clearSplits().build());
    ChannelContract.assertDeadLettered(
        kafka,
        Topics.DATASETS_PREPARED,
        noSplits,
        "DatasetPrepared.splits is required but was empty");
    ChannelContract.assertDeadLettered(
        kafka,
        Topics.JOBS_CONTROL,
        "{\"job_id\":\"j\",\"reason\":42,\"colour\":\"red\"}",
        "JobCancelRequested.colour");
  }

  @Test
  void sameCeIdDeliveredTwiceIsHandledOnce() {
    // A job yields several statuses (queued, then training and its end); count the queueing.
    ChannelContract.assertDuplicateHandledOnce(
        kafka,
        SampleEvents::datasetPrepared,
        JobStatusChanged.class,
        s -> s.getStatus() == JobStatusChanged.Status.QUEUED ? s.getJobId() : "");
  }
}
