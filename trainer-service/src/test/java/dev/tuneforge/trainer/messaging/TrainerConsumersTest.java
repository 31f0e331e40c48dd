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

  @Test
  void preparedDatasetQueuesTheJobAndCancelCancelsIt() {
    String jobId = "job-" + UUID.randomUUID();
    kafka.publish(SampleEvents.datasetPrepared(jobId));
    kafka.awaitEvents(
        JobStatusChanged.class,
        1,
        s -> jobId.equals(s.getJobId()) && s.getStatus() == JobStatusChanged.Status.QUEUED);

    kafka.publish(SampleEvents.jobCancelRequested(jobId));
    JobStatusChanged cancelled =
        kafka
            .awaitEvents(
                JobStatusChanged.class,
                1,
                s ->
                    jobId.equals(s.getJobId())
                        && s.getStatus() == JobStatusChanged.Status.CANCELLED)
            .get(0);
    assertTrue(cancelled.getReason().contains("user request"), cancelled.getReason());
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
    ChannelContract.assertDuplicateHandledOnce(
        kafka, SampleEvents::datasetPrepared, JobStatusChanged.class, JobStatusChanged::getJobId);
  }
}
