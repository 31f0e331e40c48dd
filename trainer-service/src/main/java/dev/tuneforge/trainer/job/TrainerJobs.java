package dev.tuneforge.trainer.job;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.JobLifecycle;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged.Status;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs this replica accepted, keyed by job id, with their state. Transitions follow the job
 * life cycle: QUEUED -> TRAINING -> SUCCEEDED | FAILED, and QUEUED or TRAINING -> CANCELLED. A
 * cancel reaches a job either on {@code jobs.control} (the replica that reads it) or through the
 * gateway's cancel record in storage ({@link JobLifecycle#cancelledMarker}), which a running job
 * checks every {@link #MARKER_CHECK} and every job checks before it starts: so a cancel read by
 * another replica, or sent before the dataset was ready, still holds.
 */
@ApplicationScoped
public class TrainerJobs {
  /** How often a running job looks for its cancel record in storage. */
  static final java.time.Duration MARKER_CHECK = java.time.Duration.ofSeconds(10);

  /** A job this replica holds. */
  public record Job(JobSpec spec, Status status) {}

  private final Map<String, Job> jobs = new ConcurrentHashMap<>();
  private final Map<String, Long> markerChecked = new ConcurrentHashMap<>();
  private final ObjectStore store;

  TrainerJobs(ObjectStore store) {
    this.store = store;
  }

  /** Whether the gateway recorded a cancel of {@code jobId} in storage. */
  public boolean cancelRecorded(String jobId) {
    return store.stat(JobLifecycle.cancelledMarker(jobId)).isPresent();
  }

  /** Queues a job whose dataset is ready; a job already held keeps its state. */
  public Job queue(JobSpec spec) {
    return jobs.computeIfAbsent(spec.getJobId(), id -> new Job(spec, Status.QUEUED));
  }

  /** Marks a queued job as training; false if it was cancelled (or is unknown) meanwhile. */
  public boolean start(String jobId) {
    Job started =
        jobs.computeIfPresent(
            jobId,
            (id, job) ->
                job.status() == Status.QUEUED ? new Job(job.spec(), Status.TRAINING) : job);
    return started != null && started.status() == Status.TRAINING;
  }

  /** Records how a job ended (SUCCEEDED or FAILED); a cancelled job stays cancelled. */
  public void finish(String jobId, Status status) {
    jobs.computeIfPresent(
        jobId, (id, job) -> job.status() == Status.CANCELLED ? job : new Job(job.spec(), status));
  }

  /**
   * Whether the job was cancelled: on {@code jobs.control}, or, checked at most every {@link
   * #MARKER_CHECK}, by the gateway's record in storage (then the job is marked cancelled here).
   */
  public boolean isCancelled(String jobId) {
    if (get(jobId).map(job -> job.status() == Status.CANCELLED).orElse(false)) {
      return true;
    }
    long now = System.nanoTime();
    Long last = markerChecked.get(jobId);
    if (last != null && now - last < MARKER_CHECK.toNanos()) {
      return false;
    }
    markerChecked.put(jobId, now);
    if (cancelRecorded(jobId)) {
      cancel(jobId);
      return true;
    }
    return false;
  }

  public Optional<Job> get(String jobId) {
    return Optional.ofNullable(jobs.get(jobId));
  }

  /**
   * Cancels a queued or running job. Returns the job when this call cancelled it, or empty when
   * this replica does not hold it, it already finished, or it was cancelled before (so a repeated
   * cancel reports nothing twice).
   */
  public Optional<Job> cancel(String jobId) {
    boolean[] changed = new boolean[1];
    Job cancelled =
        jobs.computeIfPresent(
            jobId,
            (id, job) -> {
              if (!isActive(job.status())) {
                return job;
              }
              changed[0] = true;
              return new Job(job.spec(), Status.CANCELLED);
            });
    return changed[0] ? Optional.of(cancelled) : Optional.empty();
  }

  private static boolean isActive(Status status) {
    return status == Status.QUEUED || status == Status.TRAINING;
  }
}
