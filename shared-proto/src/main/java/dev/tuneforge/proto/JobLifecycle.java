package dev.tuneforge.proto;

import dev.tuneforge.proto.v1.JobStatusChanged.Status;

/**
 * The job lifecycle, in one place for every service: {@code PREPARING_DATA → QUEUED → TRAINING ⇄
 * EVALUATING → SUCCEEDED}, with FAILED and CANCELLED reachable from any state that is not final.
 * SUCCEEDED, FAILED and CANCELLED are final: nothing moves a job out of them, so a replayed request
 * or a late event cannot regress a job. A job never goes back to PREPARING_DATA once past it; a
 * trainer that takes over a job may queue it again (TRAINING → QUEUED) and evaluations of
 * intermediate checkpoints alternate with training.
 */
public final class JobLifecycle {
  private JobLifecycle() {}

  /** Whether {@code status} is final. */
  public static boolean isTerminal(Status status) {
    return status == Status.SUCCEEDED || status == Status.FAILED || status == Status.CANCELLED;
  }

  /** Whether a job in {@code from} (null: not seen yet) may move to {@code to}. */
  public static boolean allows(Status from, Status to) {
    if (to == Status.STATUS_UNSPECIFIED || to == Status.UNRECOGNIZED) {
      return false;
    }
    if (from == null || from == Status.STATUS_UNSPECIFIED) {
      return true;
    }
    if (isTerminal(from)) {
      return false;
    }
    return to != Status.PREPARING_DATA || from == Status.PREPARING_DATA;
  }

  /** The OpenAI fine-tuning status of a TuneForge status. */
  public static String openAiStatus(Status status) {
    return switch (status) {
      case PREPARING_DATA -> "validating_files";
      case QUEUED -> "queued";
      case TRAINING, EVALUATING -> "running";
      case SUCCEEDED -> "succeeded";
      case FAILED -> "failed";
      case CANCELLED -> "cancelled";
      case STATUS_UNSPECIFIED, UNRECOGNIZED -> "unknown";
    };
  }

  /**
   * The object whose presence records that a job was cancelled ({@code jobs/{id}/cancelled.json}):
   * written by the gateway before it answers a cancel, read by every service before it starts work
   * on the job, so a cancel that arrives before the job reaches a service still holds.
   */
  public static String cancelledMarker(String jobId) {
    return "jobs/" + jobId + "/cancelled.json";
  }
}
