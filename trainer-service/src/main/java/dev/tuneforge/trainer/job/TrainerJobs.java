package dev.tuneforge.trainer.job;

import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged.Status;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs this replica accepted, keyed by job id, with their state. Transitions follow the job
 * life cycle: QUEUED -> TRAINING -> SUCCEEDED | FAILED, and QUEUED or TRAINING -> CANCELLED.
 */
@ApplicationScoped
public class TrainerJobs {
  /** A job this replica holds. */
  public record Job(JobSpec spec, Status status) {}

  private final Map<String, Job> jobs = new ConcurrentHashMap<>();

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

  public boolean isCancelled(String jobId) {
    return get(jobId).map(job -> job.status() == Status.CANCELLED).orElse(false);
  }

  public Optional<Job> get(String jobId) {
    return Optional.ofNullable(jobs.get(jobId));
  }

  /**
   * Cancels a queued or running job. Returns the cancelled job, or empty when this replica does not
   * hold it or it already finished.
   */
  public Optional<Job> cancel(String jobId) {
    Job cancelled =
        jobs.computeIfPresent(
            jobId,
            (id, job) -> isActive(job.status()) ? new Job(job.spec(), Status.CANCELLED) : job);
    return Optional.ofNullable(cancelled).filter(job -> job.status() == Status.CANCELLED);
  }

  private static boolean isActive(Status status) {
    return status == Status.QUEUED || status == Status.TRAINING;
  }
}
