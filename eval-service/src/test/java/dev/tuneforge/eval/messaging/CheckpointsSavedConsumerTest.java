package dev.tuneforge.eval.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.Topics;
import dev.tuneforge.proto.v1.CheckpointSaved;
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
class CheckpointsSavedConsumerTest {
  private final TestKafka kafka = TestKafka.shared();

  private static CheckpointSaved finalCheckpoint(String jobId) {
    return SampleEvents.checkpointSaved(jobId).toBuilder().setIsFinal(true).build();
  }

  @Test
  void finalCheckpointMovesTheJobToEvaluating() {
    String intermediate = "job-" + UUID.randomUUID();
    String jobId = "job-" + UUID.randomUUID();
    kafka.publish(SampleEvents.checkpointSaved(intermediate));
    kafka.publish(finalCheckpoint(jobId));

    JobStatusChanged status =
        kafka.awaitEvents(JobStatusChanged.class, 1, s -> jobId.equals(s.getJobId())).get(0);
    assertEquals(JobStatusChanged.Status.EVALUATING, status.getStatus());
    assertEquals(
        0,
        kafka
            .readAll(
                Topics.JOBS_STATUS,
                r ->
                    TestKafka.is(r, JobStatusChanged.class, s -> intermediate.equals(s.getJobId())))
            .size(),
        "an intermediate checkpoint changes no job status");
    ChannelContract.assertReadyAndCounting(Topics.CHECKPOINTS_SAVED);
  }

  @Test
  void malformedCheckpointGoesToDeadLetterTopicWithTheReason() {
    ChannelContract.assertDeadLettered(
        kafka,
        Topics.CHECKPOINTS_SAVED,
        "{\"job_id\":\"j\",\"checkpoint_id\":\"c\",\"object_prefix\":\"p/\",\"kind\":\"ADAPTER\"}",
        "CheckpointSaved.base_model is required but was missing");
  }

  @Test
  void sameCeIdDeliveredTwiceIsHandledOnce() {
    // A final checkpoint yields EVALUATING, then the evaluation's outcome; count the former.
    ChannelContract.assertDuplicateHandledOnce(
        kafka,
        CheckpointsSavedConsumerTest::finalCheckpoint,
        JobStatusChanged.class,
        s -> s.getStatus() == JobStatusChanged.Status.EVALUATING ? s.getJobId() : "");
  }
}
