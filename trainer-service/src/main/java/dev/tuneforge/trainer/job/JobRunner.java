package dev.tuneforge.trainer.job;

import dev.tuneforge.llm.run.Outcome;
import dev.tuneforge.llm.run.RunHooks;
import dev.tuneforge.llm.run.Runs;
import dev.tuneforge.llm.run.TrainingJob;
import dev.tuneforge.platform.config.TenantLimits;
import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.JobStatuses;
import dev.tuneforge.platform.storage.ArtifactWriter;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.Manifest;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.platform.storage.Retrying;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.JobSpecDefaults;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.DatasetSplit;
import dev.tuneforge.proto.v1.JobError;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.TrainingProgress;
import dev.tuneforge.trainer.config.TrainerConfig;
import dev.tuneforge.trainer.reward.Rewards;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

/**
 * Runs queued jobs (SFT full/LoRA/QLoRA, DPO, reward model, PPO, Best-of-N) one at a time on its
 * own thread, never on a Kafka record: the base model is copied from {@code models/{name}/} once,
 * the prepared splits are read from the bucket, and llm-core trains. Every logging step becomes a
 * {@code TrainingProgress}; every checkpoint is committed under {@code
 * jobs/{id}/checkpoints/step-{n}/} (manifest last, at most save_total_limit kept) and announced by
 * {@code CheckpointSaved}; the result goes to {@code jobs/{id}/final/} and a final {@code
 * CheckpointSaved} hands the job to evaluation. A cancel stops it before the next step; an error (a
 * diverged loss names the step, learning rate and last good checkpoint) fails it.
 */
@ApplicationScoped
public class JobRunner {
  static final String SERVICE = "trainer-service";
  static final String RUN = "run.json";
  static final String ENDED = "ended.json";
  private static final Logger LOG = Logger.getLogger(JobRunner.class);

  private final TrainerJobs jobs;
  private final EventPublisher publisher;
  private final Emitter<JobStatusChanged> statuses;
  private final Emitter<TrainingProgress> progress;
  private final Emitter<CheckpointSaved> checkpoints;
  private final ObjectStore store;
  private final Artifacts artifacts;
  private final Path workDir;
  private final TrainingMetrics metrics;
  private final Rewards rewards;
  private final String device;
  private final TenantLimits limits;
  private final Duration outageDeadline;
  private final Map<String, Long> deadlines = new java.util.concurrent.ConcurrentHashMap<>();
  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "training");
            thread.setDaemon(true);
            return thread;
          });

  JobRunner(
      TrainerJobs jobs,
      EventPublisher publisher,
      @Channel(Channels.JOBS_STATUS_OUT) Emitter<JobStatusChanged> statuses,
      @Channel(Channels.TRAINING_PROGRESS_OUT) Emitter<TrainingProgress> progress,
      @Channel(Channels.CHECKPOINTS_SAVED_OUT) Emitter<CheckpointSaved> checkpoints,
      ObjectStore store,
      Artifacts artifacts,
      TrainingMetrics metrics,
      Rewards rewards,
      TrainerConfig config,
      TenantLimits limits) {
    this.outageDeadline = config.outageDeadline();
    this.device = config.device();
    this.limits = limits;
    this.metrics = metrics;
    this.rewards = rewards;
    this.jobs = jobs;
    this.publisher = publisher;
    this.statuses = statuses;
    this.progress = progress;
    this.checkpoints = checkpoints;
    this.store = store;
    this.artifacts = artifacts;
    this.workDir = Path.of(config.workDir());
  }

  /** Runs the job after those already waiting on this replica. */
  public void submit(DatasetPrepared dataset) {
    executor.submit(() -> run(dataset));
  }

  private void run(DatasetPrepared dataset) {
    JobSpec spec = JobSpecDefaults.resolve(dataset.getSpec());
    String jobId = spec.getJobId();
    String jobPrefix = "jobs/" + jobId + "/";
    if (store.stat(jobPrefix + ENDED).isPresent()) {
      LOG.infof("job %s already ended; not run again", jobId);
      jobs.finish(jobId, JobStatusChanged.Status.SUCCEEDED);
      return;
    }
    if (jobs.isCancelled(jobId) || !jobs.start(jobId)) {
      return; // cancelled while queued (here, or through the gateway's record)
    }
    try {
      String method = JobSpecs.method(spec);
      Path work = clean(workDir.resolve("jobs").resolve(jobId));
      // A job that already committed checkpoints (its trainer died) continues from the newest.
      Path resumeFrom = CommittedCheckpoints.fetchNewest(artifacts, jobId, work.resolve("out"));
      store.put(
          jobPrefix + RUN,
          dev.tuneforge.proto.EventCodec.toJson(dataset)
              .getBytes(java.nio.charset.StandardCharsets.UTF_8),
          "application/json");
      publish(
          statuses,
          status(
              spec,
              JobStatusChanged.Status.TRAINING,
              resumeFrom == null
                  ? "training started: " + method
                  : "training resumed from " + resumeFrom.getFileName() + ": " + method));
      Path modelDir = fetchModel(spec.getBaseModel().getName());
      metrics.started(jobId, method, TrainingMetrics.parameters(modelDir));
      TrainingJob job =
          JobSpecs.toTrainingJob(
              spec, inputs(spec, dataset, modelDir, work), name -> rewards.of(jobId, name));
      checkSteps(spec, dataset);
      TenantLimits.Limits limit = limits.of(spec.getTenant());
      deadlines.put(jobId, System.nanoTime() + limit.maxJobDuration().toNanos());
      // Checkpoints of an adapter run hold the adapter (a reward model's too, merged at the end).
      boolean adapterCheckpoints = job.adapted();
      StringWriter log = new StringWriter();
      Outcome trained =
          Runs.run(
              job,
              resumeFrom,
              new RunHooks(
                  step -> report(TrainingEvents.progress(jobId, step)),
                  dir ->
                      checkpoint(
                          spec, dir, adapterCheckpoints, !JobSpecDefaults.generatesData(spec)),
                  () -> stopRequested(jobId),
                  new PrintWriter(log)));
      LOG.infof("job %s: %s", jobId, log.toString().strip());
      boolean adapter = trained.adapter();
      if (trained.stopped() && !jobs.isCancelled(jobId)) {
        throw new IllegalStateException(
            "the job ran past tenant "
                + spec.getTenant()
                + "'s time limit of "
                + limit.maxJobDuration()
                + " ("
                + limit.key(spec.getTenant(), "max-job-duration")
                + ") and was stopped");
      }
      if (trained.stopped()) {
        metrics.ended("cancelled");
        ended(jobId, "cancelled");
        return; // the cancel was reported when it arrived
      }
      deadlines.remove(jobId);
      if (JobSpecDefaults.generatesData(spec)) {
        List<String> files =
            GeneratedFiles.register(spec, trained.finalDir(), work.resolve("files"), this::upload);
        jobs.finish(jobId, JobStatusChanged.Status.SUCCEEDED);
        metrics.ended("generated");
        ended(jobId, "generated");
        publish(
            statuses,
            status(spec, JobStatusChanged.Status.SUCCEEDED, "generated files " + files).toBuilder()
                .addAllResultFiles(files)
                .build());
        return;
      }
      String prefix = "jobs/" + jobId + "/final/";
      upload(
          trained.finalDir(),
          prefix,
          Map.of("job_id", jobId, "kind", adapter ? "adapter" : "model"));
      jobs.finish(jobId, JobStatusChanged.Status.SUCCEEDED);
      metrics.ended("trained");
      ended(jobId, "trained");
      publish(
          checkpoints,
          TrainingEvents.checkpointSaved(
                  spec, "final", trained.lastStep(), prefix, adapter, true, trained.metrics())
              .toBuilder()
              .setTrainedTokens(JobSize.trainedTokens(spec, dataset, trained.lastStep()))
              .build());
    } catch (RuntimeException | LinkageError e) {
      deadlines.remove(jobId);
      LOG.errorf(e, "job %s failed", jobId);
      jobs.finish(jobId, JobStatusChanged.Status.FAILED);
      metrics.ended("failed");
      ended(jobId, "failed");
      String message = e.getMessage() == null ? e.toString() : e.getMessage();
      publish(
          statuses,
          status(spec, JobStatusChanged.Status.FAILED, "training failed: " + message).toBuilder()
              .setError(
                  JobError.newBuilder().setCode("training_failed").setMessage(message).build())
              .build());
    }
  }

  /** Whether the job must stop: cancelled, or past its time limit. */
  private boolean stopRequested(String jobId) {
    Long deadline = deadlines.get(jobId);
    return jobs.isCancelled(jobId) || (deadline != null && System.nanoTime() - deadline > 0);
  }

  /**
   * Refuses a job whose optimizer steps (max_steps, or an upper bound from the training split's
   * examples, the batch, gradient accumulation and the epochs) exceed this trainer's limit, so one
   * request can never hold the replica for good.
   */
  private void checkSteps(JobSpec spec, DatasetPrepared dataset) {
    long steps = JobSize.plannedSteps(spec, dataset);
    TenantLimits.Limits limit = limits.of(spec.getTenant());
    if (steps > limit.maxJobSteps()) {
      throw new IllegalArgumentException(
          "the job would run "
              + steps
              + " optimizer steps, over tenant "
              + spec.getTenant()
              + "'s limit of "
              + limit.maxJobSteps()
              + " ("
              + limit.key(spec.getTenant(), "max-job-steps")
              + "); lower num_train_epochs or max_steps");
    }
  }

  /** A logging step: on training.progress and in the job's gauges. */
  /**
   * Reports progress without waiting for the broker: the producer keeps the records in order and
   * retries them through an outage ({@code delivery.timeout.ms}), and a report that is finally lost
   * is logged, never a reason to fail the job.
   */
  private void report(TrainingProgress event) {
    metrics.progress(event);
    publisher
        .publish(progress, event)
        .exceptionally(
            error -> {
              LOG.warnf(
                  "job %s: progress of step %d was not delivered: %s",
                  event.getJobId(), event.getStep(), error.getMessage());
              return null;
            });
  }

  /** Marks the job as over, so neither a redelivery nor a restarted replica runs it again. */
  private void ended(String jobId, String outcome) {
    try {
      Retrying.storage(
          "recording the end of job " + jobId,
          outageDeadline,
          () ->
              store.put(
                  "jobs/" + jobId + "/" + ENDED,
                  ("{\"outcome\":\"" + outcome + "\"}")
                      .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                  "application/json"));
    } catch (RuntimeException e) {
      LOG.errorf(e, "job %s: cannot record its end", jobId);
    }
  }

  /** Runs a job found unfinished in the bucket (its replica died) on this replica. */
  public void resume(DatasetPrepared dataset) {
    if (jobs.get(dataset.getJobId()).isPresent()) {
      return;
    }
    jobs.queue(dataset.getSpec());
    submit(dataset);
  }

  /** The job's inputs on this replica: the prepared train and validation splits, copied here. */
  private JobSpecs.Inputs inputs(JobSpec spec, DatasetPrepared dataset, Path modelDir, Path work) {
    Path train = null;
    Path eval = null;
    long trainExamples = 0;
    for (DatasetSplit split : dataset.getSplitsList()) {
      if (split.getExamples() == 0 || split.getName().equals("test")) {
        continue;
      }
      Path file = work.resolve(split.getName() + ".jsonl");
      try (InputStream in = store.get(split.getObjectKey())) {
        Files.copy(in, file);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + split.getObjectKey(), e);
      }
      if (split.getName().equals("train")) {
        train = file;
        trainExamples += split.getExamples();
      } else {
        eval = file;
      }
    }
    if (train == null) {
      throw new IllegalArgumentException(
          "dataset " + dataset.getManifestKey() + " has no training examples");
    }
    return new JobSpecs.Inputs(
        modelDir,
        train,
        eval,
        work.resolve("out"),
        manifestTemplate(dataset).orElse(null),
        device,
        trainExamples,
        JobSpecs.judgeModel(spec).map(this::fetchModel).orElse(null));
  }

  /** A built-in template named by the dataset's manifest; the model's own otherwise. */
  private java.util.Optional<String> manifestTemplate(DatasetPrepared dataset) {
    String prefix = dataset.getManifestKey().replaceFirst(Manifest.FILE_NAME + "$", "");
    return artifacts
        .manifest(prefix)
        .map(m -> m.metadata().getOrDefault("chat_template", ""))
        .filter(t -> !t.isEmpty() && !t.startsWith("model:"));
  }

  /** Copies {@code models/{name}/} once into the work directory. */
  private Path fetchModel(String name) {
    String prefix = "models/" + name + "/";
    if (store.stat(prefix + "config.json").isEmpty()) {
      throw new IllegalArgumentException(
          "base model " + name + " is not in storage: " + prefix + "config.json is missing");
    }
    return dev.tuneforge.platform.storage.LocalCopies.copyPrefix(
        store, prefix, workDir.resolve("models").resolve(name.replaceAll("[^A-Za-z0-9._-]", "_")));
  }

  /** Commits a checkpoint to the bucket, prunes old ones, announces it. */
  /**
   * Commits a checkpoint and, when {@code announce} (a model's, not a generation's state), tells
   * the others with {@code CheckpointSaved}.
   */
  private void checkpoint(JobSpec spec, Path dir, boolean adapter, boolean announce) {
    long step = Long.parseLong(dir.getFileName().toString().replace("checkpoint-", ""));
    String parent = "jobs/" + spec.getJobId() + "/checkpoints/";
    String prefix = parent + "step-" + step + "/";
    upload(dir, prefix, Map.of("job_id", spec.getJobId(), "step", Long.toString(step)));
    int limit = spec.getHyperparameters().getSaveTotalLimit();
    if (limit > 0) {
      List<Manifest> saved = CommittedCheckpoints.byStep(artifacts, spec.getJobId());
      for (Manifest old : saved.subList(0, Math.max(0, saved.size() - limit))) {
        store.delete(old.prefix() + Manifest.FILE_NAME);
        store.deletePrefix(old.prefix());
      }
    }
    if (!announce) {
      return;
    }
    publish(
        checkpoints,
        TrainingEvents.checkpointSaved(
            spec,
            "step-" + step,
            step,
            prefix + (adapter ? "adapter/" : ""),
            adapter,
            false,
            Map.of()));
  }

  /**
   * Uploads {@code dir} under {@code prefix}, committed by its manifest last; a storage outage is
   * retried until the outage deadline ({@code tuneforge.trainer.outage-deadline}), the upload
   * starting over (files are overwritten, the manifest still comes last).
   */
  private void upload(Path dir, String prefix, Map<String, String> metadata) {
    Retrying.storage(
        "uploading " + prefix, outageDeadline, () -> uploadOnce(dir, prefix, metadata));
  }

  private void uploadOnce(Path dir, String prefix, Map<String, String> metadata) {
    if (artifacts.manifest(prefix).isPresent()) {
      return; // already committed (a replay)
    }
    long start = System.nanoTime();
    try (ArtifactWriter writer = artifacts.begin(prefix);
        Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        try (InputStream in = Files.newInputStream(file)) {
          writer.put(
              dir.relativize(file).toString().replace('\\', '/'),
              in,
              Files.size(file),
              "application/octet-stream");
        }
      }
      writer.commit(metadata);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot upload " + dir + " to " + prefix, e);
    }
    metrics.checkpointUploaded(Duration.ofNanos(System.nanoTime() - start));
  }

  private static JobStatusChanged status(
      JobSpec spec, JobStatusChanged.Status status, String reason) {
    return JobStatuses.change(spec.getJobId(), spec.getTenant(), status, reason, SERVICE).build();
  }

  /**
   * Publishes from the training thread and waits for the broker, so events keep their order; an
   * outage is waited out until the outage deadline, past which the job fails by name.
   */
  private <T extends com.google.protobuf.Message> void publish(Emitter<T> emitter, T event) {
    try {
      publisher
          .publish(emitter, event)
          .toCompletableFuture()
          .get(outageDeadline.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing", e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(
          "cannot publish "
              + event.getClass().getSimpleName()
              + ": the message broker did not take it within the outage deadline of "
              + outageDeadline
              + " (tuneforge.trainer.outage-deadline)",
          e);
    }
  }

  private static Path clean(Path dir) {
    try {
      if (Files.exists(dir)) {
        try (Stream<Path> files = Files.walk(dir)) {
          for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
            Files.delete(file);
          }
        }
      }
      Files.createDirectories(dir);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + dir, e);
    }
  }

  @PreDestroy
  void stop() {
    executor.shutdownNow();
  }
}
