package dev.tuneforge.gateway.job;

import com.google.protobuf.Timestamp;
import dev.tuneforge.proto.v1.EvalCompleted;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.JobStatusChanged.Status;
import dev.tuneforge.proto.v1.MetricResult;
import dev.tuneforge.proto.v1.TrainingProgress;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every job's current view and event log, folded from the events of the job topics. Nothing else is
 * stored: on restart the gateway reads {@code jobs.status} from the beginning and rebuilds it.
 */
@ApplicationScoped
public class JobViews {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(JobViews.class);
  private final Map<String, Job> jobs = new ConcurrentHashMap<>();

  /** {@code tuneforge_jobs{state}}: how many jobs are in each state now (every tenant). */
  JobViews(io.micrometer.core.instrument.MeterRegistry registry) {
    for (Status state : Status.values()) {
      if (state == Status.STATUS_UNSPECIFIED || state == Status.UNRECOGNIZED) {
        continue;
      }
      io.micrometer.core.instrument.Gauge.builder(
              "tuneforge_jobs",
              jobs,
              all -> all.values().stream().filter(j -> j.status == state).count())
          .description("Jobs by state, as the gateway sees them on jobs.status")
          .tag("state", state.name().toLowerCase(java.util.Locale.ROOT))
          .register(registry);
    }
  }

  /**
   * Records a job the API just created, so it reads back at once as validating_files; the
   * data-service's first status for it follows on {@code jobs.status}.
   */
  public void submitted(JobSpec spec, long createdAt) {
    Job job = jobs.computeIfAbsent(spec.getJobId(), Job::new);
    synchronized (job) {
      if (job.spec == null) {
        job.spec = spec;
      }
      job.tenant = spec.getTenant();
      job.createdAt = job.createdAt == 0 ? createdAt : Math.min(job.createdAt, createdAt);
      if (job.status == null) {
        job.status = Status.PREPARING_DATA;
        job.log(
            createdAt * 1_000_000_000L,
            JobEvent.message(
                "created-" + spec.getJobId(),
                createdAt,
                "info",
                "Created fine-tuning job: " + spec.getJobId()));
      }
    }
  }

  /** A saved checkpoint, shaped like OpenAI's {@code fine_tuning.job.checkpoint}. */
  public record Checkpoint(
      String id,
      String object,
      @com.fasterxml.jackson.annotation.JsonProperty("created_at") long createdAt,
      @com.fasterxml.jackson.annotation.JsonProperty("fine_tuned_model_checkpoint")
          String fineTunedModelCheckpoint,
      @com.fasterxml.jackson.annotation.JsonProperty("step_number") long stepNumber,
      Map<String, Double> metrics,
      @com.fasterxml.jackson.annotation.JsonProperty("fine_tuning_job_id") String jobId) {}

  /** Records a checkpoint the trainer saved. */
  public void apply(String eventId, dev.tuneforge.proto.v1.CheckpointSaved saved) {
    Job job = jobs.computeIfAbsent(saved.getJobId(), Job::new);
    synchronized (job) {
      job.checkpoints.removeIf(c -> c.id().equals(saved.getCheckpointId()));
      job.checkpoints.add(
          new Checkpoint(
              saved.getCheckpointId(),
              "fine_tuning.job.checkpoint",
              Instant.now().getEpochSecond(),
              saved.getObjectPrefix(),
              saved.getStep(),
              Map.copyOf(saved.getMetricsMap()),
              saved.getJobId()));
      job.checkpoints.sort(Comparator.comparingLong(Checkpoint::stepNumber).reversed());
      if (saved.getIsFinal() && saved.getTrainedTokens() > 0) {
        job.trainedTokens = saved.getTrainedTokens();
      }
    }
  }

  /** The job's checkpoints, latest step first. */
  public List<Checkpoint> checkpoints(String jobId) {
    Job job = jobs.get(jobId);
    if (job == null) {
      return List.of();
    }
    synchronized (job) {
      return List.copyOf(job.checkpoints);
    }
  }

  /**
   * Applies a status change; the first one carrying a spec fills in the job's details. A change the
   * lifecycle does not allow (out of a final state, or back to data preparation) is ignored and
   * logged: a replayed request or a late event never regresses a job, and a repeated final status
   * adds no second event.
   */
  public void apply(String eventId, JobStatusChanged change) {
    Job job = jobs.computeIfAbsent(change.getJobId(), Job::new);
    synchronized (job) {
      if (change.hasSpec() && job.spec == null) {
        job.spec = change.getSpec();
      }
      if (job.tenant.isEmpty()) {
        job.tenant = change.getTenant();
      }
      if (!dev.tuneforge.proto.JobLifecycle.allows(job.status, change.getStatus())) {
        LOG.infof(
            "job %s: %s after %s ignored (%s)",
            change.getJobId(), change.getStatus(), job.status, change.getReason());
        return;
      }
      long at = seconds(change.getTime());
      job.createdAt = job.createdAt == 0 ? at : Math.min(job.createdAt, at);
      job.status = change.getStatus();
      job.finishedAt = dev.tuneforge.proto.JobLifecycle.isTerminal(change.getStatus()) ? at : null;
      if (change.hasError()) {
        job.error = JobView.error(change.getError());
      }
      if (!change.getResultPrefix().isEmpty()) {
        job.resultPrefix = change.getResultPrefix();
      }
      if (change.getResultFilesCount() > 0) {
        job.resultFiles = List.copyOf(change.getResultFilesList());
      }
      String level = change.getStatus() == Status.FAILED ? "error" : "info";
      String message =
          change.getStatus().name()
              + (change.getReason().isEmpty() ? "" : ": " + change.getReason());
      job.log(nanos(change.getTime()), JobEvent.message(eventId, at, level, message));
    }
  }

  /** Records a training progress report as a metrics event. */
  public void apply(String eventId, TrainingProgress progress) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("step", progress.getStep());
    data.put("total_steps", progress.getTotalSteps());
    if (progress.hasLoss()) {
      data.put("train_loss", progress.getLoss());
    }
    if (progress.hasEvalLoss()) {
      data.put("valid_loss", progress.getEvalLoss());
    }
    if (progress.hasLearningRate()) {
      data.put("learning_rate", progress.getLearningRate());
    }
    if (progress.hasGradNorm()) {
      data.put("grad_norm", progress.getGradNorm());
    }
    if (progress.hasTokensPerSecond()) {
      data.put("tokens_per_second", progress.getTokensPerSecond());
    }
    if (progress.hasEvalMeanTokenAccuracy()) {
      data.put("valid_mean_token_accuracy", progress.getEvalMeanTokenAccuracy());
    }
    if (progress.getPercentDone() > 0) {
      data.put("percent_done", progress.getPercentDone());
    }
    if (progress.hasEtaSeconds()) {
      data.put("eta_seconds", progress.getEtaSeconds());
    }
    data.putAll(progress.getMetricsMap());
    if (progress.hasEtaSeconds()) {
      Job job = jobs.computeIfAbsent(progress.getJobId(), Job::new);
      synchronized (job) {
        job.estimatedFinish = seconds(progress.getTime()) + progress.getEtaSeconds();
      }
    }
    addEvent(
        progress.getJobId(),
        nanos(progress.getTime()),
        JobEvent.metrics(
            eventId,
            seconds(progress.getTime()),
            "Step " + progress.getStep() + "/" + progress.getTotalSteps(),
            data));
  }

  /** Records an evaluation as a metrics event. */
  public void apply(String eventId, EvalCompleted eval) {
    Map<String, Object> data = new LinkedHashMap<>();
    for (MetricResult metric : eval.getMetricsList()) {
      data.put(metric.getName(), metric.getCheckpointValue());
      if (metric.hasBaseValue()) {
        data.put("base_" + metric.getName(), metric.getBaseValue());
      }
    }
    addEvent(
        eval.getJobId(),
        nanos(eval.getTime()),
        JobEvent.metrics(
            eventId, seconds(eval.getTime()), "Evaluated " + eval.getCheckpointId(), data));
  }

  /** The job's spec, once a create or a status carried it. */
  public Optional<JobSpec> spec(String jobId) {
    Job job = jobs.get(jobId);
    if (job == null) {
      return Optional.empty();
    }
    synchronized (job) {
      return Optional.ofNullable(job.spec);
    }
  }

  public Optional<JobView> view(String jobId) {
    return Optional.ofNullable(jobs.get(jobId)).filter(j -> j.status != null).map(Job::view);
  }

  /** Every job with a known status, newest first. */
  public List<JobView> views() {
    return jobs.values().stream()
        .filter(j -> j.status != null)
        .map(Job::view)
        .sorted(Comparator.comparingLong(JobView::createdAt).reversed())
        .toList();
  }

  /**
   * The job's event log, oldest first by the time each event was made (arrival breaks ties), or
   * empty if the job is unknown. Arrival alone is not time: after a restart the view is rebuilt
   * topic by topic, so a job's progress and its statuses arrive in another order than they
   * happened.
   */
  public Optional<List<JobEvent>> events(String jobId) {
    return Optional.ofNullable(jobs.get(jobId))
        .map(
            job -> {
              synchronized (job) {
                return job.events.stream()
                    .sorted(
                        Comparator.comparingLong(Logged::nanos).thenComparingLong(Logged::arrival))
                    .map(Logged::event)
                    .toList();
              }
            });
  }

  private void addEvent(String jobId, long nanos, JobEvent event) {
    Job job = jobs.computeIfAbsent(jobId, Job::new);
    synchronized (job) {
      job.log(nanos, event);
    }
  }

  /** An event with the time it was made (nanoseconds since the epoch) and its arrival number. */
  private record Logged(long nanos, long arrival, JobEvent event) {}

  private static long nanos(Timestamp time) {
    return time.getSeconds() == 0
        ? System.currentTimeMillis() * 1_000_000L
        : time.getSeconds() * 1_000_000_000L + time.getNanos();
  }

  private static long seconds(Timestamp time) {
    return time.getSeconds() == 0 ? Instant.now().getEpochSecond() : time.getSeconds();
  }

  /** Mutable fold state of one job; guarded by its own monitor. */
  private static final class Job {
    final String id;
    final List<Logged> events = new ArrayList<>();
    final List<Checkpoint> checkpoints = new ArrayList<>();
    JobSpec spec;
    String tenant = "";
    Status status;
    long createdAt;
    Long finishedAt;
    Map<String, String> error;
    String resultPrefix;
    List<String> resultFiles = List.of();
    Long estimatedFinish;
    Long trainedTokens;

    Job(String id) {
      this.id = id;
    }

    void log(long nanos, JobEvent event) {
      events.add(new Logged(nanos, events.size(), event));
    }

    synchronized JobView view() {
      dev.tuneforge.proto.v1.JobSpec effective =
          spec == null ? null : dev.tuneforge.proto.JobSpecDefaults.resolve(spec);
      Map<String, Object> hyper = spec == null ? null : JobView.hyperparameters(spec);
      Map<String, Object> method = null;
      if (spec != null) {
        String type = JobView.methodType(spec.getMethod());
        method = new LinkedHashMap<>();
        method.put("type", type);
        method.put(type, Map.of("hyperparameters", hyper));
      }
      return new JobView(
          id,
          "fine_tuning.job",
          tenant,
          tenant,
          spec == null ? null : spec.getBaseModel().getName(),
          spec == null ? null : spec.getMethod().name().toLowerCase(java.util.Locale.ROOT),
          method,
          hyper,
          dev.tuneforge.proto.JobLifecycle.openAiStatus(status),
          status.name(),
          createdAt,
          finishedAt,
          spec == null ? null : spec.getDataset().getTrainingFile(),
          spec == null || spec.getDataset().getValidationFile().isEmpty()
              ? null
              : spec.getDataset().getValidationFile(),
          effective == null ? null : effective.getSeed(),
          error,
          resultPrefix,
          resultFiles,
          status == Status.SUCCEEDED ? trainedTokens : null,
          dev.tuneforge.proto.JobLifecycle.isTerminal(status) ? null : estimatedFinish,
          null,
          spec == null || spec.getMetadataMap().isEmpty()
              ? null
              : Map.copyOf(spec.getMetadataMap()),
          spec == null || spec.getSuffix().isEmpty() ? null : spec.getSuffix(),
          status == Status.SUCCEEDED
                  && spec != null
                  && resultPrefix != null
                  && !dev.tuneforge.proto.JobSpecDefaults.generatesData(spec)
              ? JobView.fineTunedModel(spec.getBaseModel().getName(), tenant, spec.getSuffix(), id)
              : null);
    }
  }
}
