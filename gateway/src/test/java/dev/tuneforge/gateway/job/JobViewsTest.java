package dev.tuneforge.gateway.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.JobStatusChanged.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * The view follows the job lifecycle: final states are final, so a replayed request (back to
 * PREPARING_DATA), a late SUCCEEDED after a cancel, or a resume scan's run of a failed job cannot
 * move a job, and a repeated final status adds no second event.
 */
class JobViewsTest {
  static JobStatusChanged status(String job, Status status) {
    return JobStatusChanged.newBuilder()
        .setJobId(job)
        .setTenant("acme")
        .setStatus(status)
        .setReason("r")
        .setResultPrefix(status == Status.SUCCEEDED ? "jobs/" + job + "/final/" : "")
        .setSpec(SampleEvents.jobSpec(job))
        .build();
  }

  @Test
  void finalStatesAreFinalAndRepeatsAddNoEvent() {
    JobViews views = new JobViews(new SimpleMeterRegistry());
    views.apply("1", status("a", Status.PREPARING_DATA));
    views.apply("2", status("a", Status.TRAINING));
    views.apply("3", status("a", Status.CANCELLED));
    views.apply("4", status("a", Status.CANCELLED));
    views.apply("5", status("a", Status.SUCCEEDED));
    views.apply("6", status("a", Status.PREPARING_DATA));
    JobView a = views.view("a").orElseThrow();
    assertEquals("cancelled", a.status());
    assertNull(a.fineTunedModel(), "a cancelled job gets no model from a late success");
    assertEquals(3, views.events("a").orElseThrow().size());

    views.apply("7", status("b", Status.SUCCEEDED));
    views.apply("8", status("b", Status.PREPARING_DATA)); // the same request published again
    views.apply("9", status("b", Status.FAILED));
    JobView b = views.view("b").orElseThrow();
    assertEquals("succeeded", b.status());
    assertEquals(
        "ft:tiny-llama:acme:support-bot:b", b.fineTunedModel(), "the suffix is in the name");

    views.apply("10", status("c", Status.TRAINING));
    views.apply("11", status("c", Status.PREPARING_DATA)); // a replay does not restart it
    views.apply("12", status("c", Status.QUEUED)); // a new trainer takes the job over
    assertEquals("queued", views.view("c").orElseThrow().status());
  }

  /** trained_tokens comes from the final checkpoint and shows once the job succeeded. */
  @Test
  void trainedTokensShowOnceTheJobSucceeded() {
    JobViews views = new JobViews(new SimpleMeterRegistry());
    views.apply("1", status("d", Status.TRAINING));
    views.apply(
        "2",
        dev.tuneforge.proto.v1.CheckpointSaved.newBuilder()
            .setJobId("d")
            .setCheckpointId("final")
            .setObjectPrefix("jobs/d/final/")
            .setIsFinal(true)
            .setTrainedTokens(31_580)
            .build());
    views.apply("3", status("d", Status.EVALUATING));
    assertNull(views.view("d").orElseThrow().trainedTokens(), "null until the job succeeded");
    views.apply("4", status("d", Status.SUCCEEDED));
    assertEquals(31_580L, views.view("d").orElseThrow().trainedTokens());
  }

  /**
   * Events are in the order they happened, not the order they arrived: after a restart the view is
   * rebuilt topic by topic, so progress can arrive before the status that came first.
   */
  @Test
  void eventsAreOrderedByWhenTheyHappened() {
    JobViews views = new JobViews(new SimpleMeterRegistry());
    com.google.protobuf.Timestamp t1 =
        com.google.protobuf.Timestamp.newBuilder().setSeconds(100).build();
    com.google.protobuf.Timestamp t2 = t1.toBuilder().setNanos(500_000_000).build();
    com.google.protobuf.Timestamp t3 = t1.toBuilder().setSeconds(101).build();
    views.apply(
        "p1",
        dev.tuneforge.proto.v1.TrainingProgress.newBuilder()
            .setJobId("e")
            .setStep(10)
            .setTotalSteps(20)
            .setTime(t2)
            .build());
    views.apply(
        "p2",
        dev.tuneforge.proto.v1.TrainingProgress.newBuilder()
            .setJobId("e")
            .setStep(20)
            .setTotalSteps(20)
            .setTime(t3)
            .build());
    views.apply("s1", status("e", Status.TRAINING).toBuilder().setTime(t1).build());
    assertEquals(
        java.util.List.of("TRAINING: r", "Step 10/20", "Step 20/20"),
        views.events("e").orElseThrow().stream().map(JobEvent::message).toList());
  }
}
