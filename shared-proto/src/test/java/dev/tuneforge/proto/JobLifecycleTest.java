package dev.tuneforge.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.proto.v1.JobStatusChanged.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobLifecycleTest {
  static final List<Status> ALL =
      List.of(
          Status.PREPARING_DATA,
          Status.QUEUED,
          Status.TRAINING,
          Status.EVALUATING,
          Status.SUCCEEDED,
          Status.FAILED,
          Status.CANCELLED);

  @Test
  void finalStatesAreFinal() {
    for (Status from : List.of(Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)) {
      assertTrue(JobLifecycle.isTerminal(from));
      for (Status to : ALL) {
        assertFalse(JobLifecycle.allows(from, to), from + " -> " + to);
      }
    }
  }

  @Test
  void aJobMovesForwardFailsOrIsCancelledButNeverBackToDataPreparation() {
    for (Status from : ALL.subList(0, 4)) {
      assertTrue(JobLifecycle.allows(from, Status.FAILED));
      assertTrue(JobLifecycle.allows(from, Status.CANCELLED));
      assertEquals(from == Status.PREPARING_DATA, JobLifecycle.allows(from, Status.PREPARING_DATA));
    }
    assertTrue(JobLifecycle.allows(Status.TRAINING, Status.QUEUED), "a new trainer re-queues");
    assertTrue(JobLifecycle.allows(Status.EVALUATING, Status.TRAINING), "intermediate evals");
    assertTrue(JobLifecycle.allows(null, Status.PREPARING_DATA));
    assertEquals("validating_files", JobLifecycle.openAiStatus(Status.PREPARING_DATA));
    assertEquals("running", JobLifecycle.openAiStatus(Status.EVALUATING));
  }
}
