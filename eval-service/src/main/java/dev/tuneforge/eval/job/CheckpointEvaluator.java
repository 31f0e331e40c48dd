package dev.tuneforge.eval.job;

import com.google.gson.GsonBuilder;
import com.google.protobuf.util.Timestamps;
import dev.tuneforge.eval.reward.RewardServiceClient;
import dev.tuneforge.llm.eval.CheckpointEvaluation;
import dev.tuneforge.llm.eval.RewardModelEvaluation;
import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.JobStatuses;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.LocalCopies;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.EvalCompleted;
import dev.tuneforge.proto.v1.JobError;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.MetricResult;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.jboss.logging.Logger;

/**
 * Evaluates a job's checkpoint against its base model on the job's test split (the validation split
 * when there is no test split), on its own thread: writes a JSON report under {@code
 * jobs/{id}/evals/} and publishes {@code EvalCompleted} with both sets of numbers. A final
 * checkpoint then completes the job (SUCCEEDED with the result's prefix), and a failed evaluation
 * fails it by name. A reward model job is scored by pairwise accuracy; others by text metrics, and
 * by reward and win rate when a reward model judges (see {@link #rewardModel}).
 */
@ApplicationScoped
public class CheckpointEvaluator {
  static final String SERVICE = "eval-service";
  private static final Logger LOG = Logger.getLogger(CheckpointEvaluator.class);

  private final EventPublisher publisher;
  private final Emitter<JobStatusChanged> statuses;
  private final Emitter<EvalCompleted> evals;
  private final ObjectStore store;
  private final Artifacts artifacts;
  private final Path workDir;
  private final int maxSamples;
  private final RewardServiceClient rewards;
  private final EvalMetrics evalMetrics;
  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "evaluation");
            thread.setDaemon(true);
            return thread;
          });

  CheckpointEvaluator(
      EventPublisher publisher,
      @Channel(Channels.JOBS_STATUS_OUT) Emitter<JobStatusChanged> statuses,
      @Channel(Channels.EVALS_COMPLETED_OUT) Emitter<EvalCompleted> evals,
      ObjectStore store,
      Artifacts artifacts,
      dev.tuneforge.eval.config.EvalConfig config,
      RewardServiceClient rewards,
      EvalMetrics metrics) {
    this.rewards = rewards;
    this.evalMetrics = metrics;
    this.publisher = publisher;
    this.statuses = statuses;
    this.evals = evals;
    this.store = store;
    this.artifacts = artifacts;
    this.workDir = Path.of(config.workDir());
    this.maxSamples = config.maxSamples();
  }

  public void submit(CheckpointSaved checkpoint) {
    executor.submit(() -> evaluate(checkpoint));
  }

  /** The records scored: the job's test split, or its validation split when it has no test. */
  private record Split(String name, List<String> lines) {}

  private void evaluate(CheckpointSaved checkpoint) {
    String jobId = checkpoint.getJobId();
    String tenant = checkpoint.getSpec().getTenant();
    long started = System.nanoTime();
    try {
      String model = checkpoint.getBaseModel().getName();
      Path base =
          LocalCopies.copyPrefix(
              store, "models/" + model + "/", workDir.resolve("models").resolve(model));
      Path copy = workDir.resolve("jobs").resolve(jobId).resolve(checkpoint.getCheckpointId());
      LocalCopies.delete(copy);
      LocalCopies.copyPrefix(store, checkpoint.getObjectPrefix(), copy);
      Split split = testSplit(jobId);
      CheckpointEvaluation.Result result = score(checkpoint, base, copy, split);
      String reportKey = writeReport(checkpoint, split, result);
      publish(evals, completed(checkpoint, reportKey, split, result));
      evalMetrics.completed(
          result.metrics(),
          java.time.Duration.ofNanos(System.nanoTime() - started),
          checkpoint.getIsFinal());
      if (!checkpoint.getIsFinal()) {
        return; // an intermediate checkpoint: the job is still training
      }
      List<String> summary = new ArrayList<>();
      result
          .metrics()
          .forEach(
              (name, v) -> summary.add(String.format("%s %.4g (base %.4g)", name, v[0], v[1])));
      publish(
          statuses,
          JobStatuses.change(
                  jobId,
                  tenant,
                  JobStatusChanged.Status.SUCCEEDED,
                  "evaluated on "
                      + split.lines().size()
                      + " "
                      + split.name()
                      + " records: "
                      + String.join(", ", summary),
                  SERVICE)
              .setResultPrefix(checkpoint.getObjectPrefix())
              .build());
    } catch (Exception | LinkageError e) {
      LOG.errorf(e, "job %s: evaluation of %s failed", jobId, checkpoint.getCheckpointId());
      evalMetrics.failed();
      if (!checkpoint.getIsFinal()) {
        return; // a failed look at an intermediate checkpoint does not fail the job
      }
      String message = e.getMessage() == null ? e.toString() : e.getMessage();
      publish(
          statuses,
          JobStatuses.change(
                  jobId,
                  tenant,
                  JobStatusChanged.Status.FAILED,
                  "evaluation failed: " + message,
                  SERVICE)
              .setError(JobError.newBuilder().setCode("evaluation_failed").setMessage(message))
              .build());
    }
  }

  private Split testSplit(String jobId) {
    String datasets = "datasets/" + jobId + "/";
    List<String> lines = lines(datasets + "test.jsonl");
    if (!lines.isEmpty()) {
      return new Split("test", lines);
    }
    lines = lines(datasets + "validation.jsonl");
    if (lines.isEmpty()) {
      throw new IllegalStateException("the job has no test or validation records to score");
    }
    return new Split("validation", lines);
  }

  /** The checkpoint and its base on the split, by the job's method and eval settings. */
  private CheckpointEvaluation.Result score(
      CheckpointSaved checkpoint, Path base, Path copy, Split split) {
    JobSpec spec = checkpoint.getSpec();
    String template =
        artifacts
            .manifest("datasets/" + checkpoint.getJobId() + "/")
            .map(m -> m.metadata().getOrDefault("chat_template", ""))
            .filter(t -> !t.isEmpty() && !t.startsWith("model:"))
            .orElse(null);
    int samples =
        spec.getEval().hasMaxEvalSamples() ? spec.getEval().getMaxEvalSamples() : maxSamples;
    if (spec.getMethod() == JobSpec.Method.REWARD_MODEL) {
      return RewardModelEvaluation.run(
          base, copy, split.lines(), template, samples, spec.getSeed());
    }
    String rewardModel = rewardModel(spec);
    boolean judged =
        !rewardModel.isEmpty()
            && (rewards.configured()
                || spec.getEval().getMetricsList().contains("reward")
                || spec.getEval().getMetricsList().contains("win_rate"));
    return CheckpointEvaluation.run(
        base,
        copy,
        checkpoint.getKind() == CheckpointSaved.Kind.ADAPTER,
        split.lines(),
        new CheckpointEvaluation.Options(
            template,
            samples,
            spec.getEval().getMaxNewTokens(),
            judged ? rewards.of(rewardModel) : null,
            java.util.Set.copyOf(spec.getEval().getMetricsList()),
            spec.getEval().getRougeUseStemmer()));
  }

  /** Writes jobs/{id}/evals/{checkpoint}.json: settings, base/tuned/delta and every sample. */
  private String writeReport(
      CheckpointSaved checkpoint, Split split, CheckpointEvaluation.Result result) {
    String reportKey =
        "jobs/" + checkpoint.getJobId() + "/evals/" + checkpoint.getCheckpointId() + ".json";
    String rewardModel = rewardModel(checkpoint.getSpec());
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("job_id", checkpoint.getJobId());
    report.put("checkpoint", checkpoint.getObjectPrefix());
    report.put("base_model", checkpoint.getBaseModel().getName());
    report.put("split", split.name());
    report.put("generation", result.generation());
    report.put("reward_model", rewardModel.isEmpty() ? null : rewardModel);
    Map<String, Map<String, Double>> metrics = new LinkedHashMap<>();
    result
        .metrics()
        .forEach(
            (name, v) -> {
              Map<String, Double> values = new LinkedHashMap<>();
              values.put("base", v[1]);
              values.put("tuned", v[0]);
              values.put("delta", v[0] - v[1]);
              metrics.put(name, values);
            });
    report.put("metrics", metrics);
    report.put("samples", result.samples());
    store.put(
        reportKey,
        new GsonBuilder()
            .setPrettyPrinting()
            .serializeSpecialFloatingPointValues()
            .create()
            .toJson(report)
            .getBytes(StandardCharsets.UTF_8),
        "application/json");
    return reportKey;
  }

  private static EvalCompleted completed(
      CheckpointSaved checkpoint,
      String reportKey,
      Split split,
      CheckpointEvaluation.Result result) {
    EvalCompleted.Builder completed =
        EvalCompleted.newBuilder()
            .setJobId(checkpoint.getJobId())
            .setCheckpointId(checkpoint.getCheckpointId())
            .setStep(checkpoint.getStep())
            .setReportKey(reportKey)
            .setSamples(split.lines().size())
            .setTime(Timestamps.now());
    result
        .metrics()
        .forEach(
            (name, v) ->
                completed.addMetrics(
                    MetricResult.newBuilder()
                        .setName(name)
                        .setCheckpointValue(v[0])
                        .setBaseValue(v[1])
                        .setDelta(v[0] - v[1])));
    return completed.build();
  }

  /**
   * The judge: eval.reward_model, else the PPO, online DPO or Best-of-N job's own; empty if none.
   */
  static String rewardModel(JobSpec spec) {
    if (!spec.getEval().getRewardModel().isEmpty()) {
      return spec.getEval().getRewardModel();
    }
    return dev.tuneforge.proto.JobSpecDefaults.rewardBlock(spec)
        .map(dev.tuneforge.proto.JobSpecDefaults.RewardBlock::rewardModel)
        .orElse("");
  }

  private List<String> lines(String key) {
    if (store.stat(key).isEmpty()) {
      return List.of();
    }
    return new String(store.getBytes(key), StandardCharsets.UTF_8)
        .lines()
        .filter(l -> !l.isBlank())
        .toList();
  }

  private <T extends com.google.protobuf.Message> void publish(Emitter<T> emitter, T event) {
    try {
      publisher.publish(emitter, event).toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.errorf(e, "cannot publish %s", event.getClass().getSimpleName());
    }
  }

  @PreDestroy
  void stop() {
    executor.shutdownNow();
  }
}
