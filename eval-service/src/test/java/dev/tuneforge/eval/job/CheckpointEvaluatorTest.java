package dev.tuneforge.eval.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.eval.TestModels;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.EvalCompleted;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.MetricResult;
import dev.tuneforge.proto.v1.ModelRef;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A final checkpoint is scored with its base model on the job's test split: an adapter whose update
 * is zero (PEFT's initialisation) must score exactly as the base, the report lands under {@code
 * jobs/{id}/evals/}, and the job succeeds with the result's prefix.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class CheckpointEvaluatorTest {
  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;

  void put(Path dir, String prefix) throws Exception {
    TestModels.put(store, dir, prefix);
  }

  @Test
  void anUntrainedAdapterScoresExactlyAsItsBaseAndTheJobSucceeds() throws Exception {
    String jobId = "eval-" + UUID.randomUUID();
    Path base = TestModels.base(store, "tiny-eval", 9);
    Path adapterDir = TestModels.adapter(base, "tiny-eval", false);
    put(adapterDir, "jobs/" + jobId + "/final/");
    StringBuilder test = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      test.append("{\"prompt\":\"the \",\"completion\":\"answer ").append(i).append("\"}\n");
    }
    store.put(
        "datasets/" + jobId + "/test.jsonl",
        test.toString().getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");

    CheckpointSaved last =
        SampleEvents.checkpointSaved(jobId).toBuilder()
            .setCheckpointId("final")
            .setObjectPrefix("jobs/" + jobId + "/final/")
            .setBaseModel(ModelRef.newBuilder().setName("tiny-eval"))
            .setSpec(
                SampleEvents.jobSpec(jobId).toBuilder()
                    .setEval(
                        dev.tuneforge.proto.v1.EvalConfig.newBuilder().setRougeUseStemmer(true)))
            .setIsFinal(true)
            .build();
    kafka.publish(last);

    EvalCompleted eval =
        kafka.awaitEvents(EvalCompleted.class, 1, e -> jobId.equals(e.getJobId())).get(0);
    Map<String, MetricResult> metrics =
        eval.getMetricsList().stream().collect(Collectors.toMap(MetricResult::getName, m -> m));
    assertTrue(
        metrics
            .keySet()
            .containsAll(
                java.util.List.of("perplexity", "exact_match", "rouge1", "rougeL", "bleu")),
        "" + metrics.keySet());
    for (MetricResult metric : metrics.values()) {
      assertEquals(metric.getBaseValue(), metric.getCheckpointValue(), 1e-6, metric.getName());
    }
    assertTrue(metrics.get("perplexity").getCheckpointValue() > 1);
    assertEquals(6, eval.getSamples());
    String report = new String(store.getBytes(eval.getReportKey()), StandardCharsets.UTF_8);
    assertTrue(report.contains("\"max_new_tokens\""), report);
    assertTrue(report.contains("\"rouge_use_stemmer\": true"), report);
    JobStatusChanged done = kafka.awaitStatus(jobId, JobStatusChanged.Status.SUCCEEDED);
    assertEquals("jobs/" + jobId + "/final/", done.getResultPrefix());
    assertTrue(
        done.getReason().startsWith("evaluated on 6 test records: perplexity"), done.getReason());
  }

  static final String[] LABELS = {"positive", "negative"};

  /**
   * Label references are scored by accuracy and macro-F1, and a reward model judges both models'
   * answers: the reward is the mean of its scores and the win rate counts the tuned model's wins
   * (ties half), exactly as the per-sample report shows.
   */
  @Test
  void labelsGetAccuracyAndF1AndAJudgeGivesRewardAndWinRate() throws Exception {
    String jobId = "judged-" + UUID.randomUUID();
    Path base = TestModels.base(store, "tiny-judged", 9);
    Path adapterDir = TestModels.adapter(base, "tiny-judged", true);
    put(adapterDir, "jobs/" + jobId + "/final/");
    StringBuilder test = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      test.append("{\"prompt\":\"review ")
          .append(i)
          .append(":\",\"completion\":\"")
          .append(LABELS[i % 2])
          .append("\"}\n");
    }
    store.put(
        "datasets/" + jobId + "/test.jsonl",
        test.toString().getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");
    var spec = SampleEvents.jobSpec(jobId).toBuilder();
    spec.getEvalBuilder().setRewardModel("length-judge");
    kafka.publish(
        SampleEvents.checkpointSaved(jobId).toBuilder()
            .setCheckpointId("final")
            .setObjectPrefix("jobs/" + jobId + "/final/")
            .setKind(CheckpointSaved.Kind.ADAPTER)
            .setBaseModel(ModelRef.newBuilder().setName("tiny-judged"))
            .setSpec(spec)
            .setIsFinal(true)
            .build());
    EvalCompleted eval =
        kafka.awaitEvents(EvalCompleted.class, 1, e -> jobId.equals(e.getJobId())).get(0);
    Map<String, MetricResult> metrics =
        eval.getMetricsList().stream().collect(Collectors.toMap(MetricResult::getName, m -> m));
    assertTrue(
        metrics.keySet().containsAll(java.util.List.of("accuracy", "f1", "reward", "win_rate")),
        "" + metrics.keySet());
    com.google.gson.JsonObject report =
        com.google.gson.JsonParser.parseString(
                new String(store.getBytes(eval.getReportKey()), StandardCharsets.UTF_8))
            .getAsJsonObject();
    assertEquals("length-judge", report.get("reward_model").getAsString());
    double tunedSum = 0;
    double baseSum = 0;
    double wins = 0;
    int n = 0;
    int correct = 0;
    for (var element : report.getAsJsonArray("samples")) {
      var sample = element.getAsJsonObject();
      double tuned = JudgeResource.rule(sample.get("tuned").getAsString());
      double baseScore = JudgeResource.rule(sample.get("base").getAsString());
      assertEquals(tuned, sample.get("tunedReward").getAsDouble(), 1e-9);
      tunedSum += tuned;
      baseSum += baseScore;
      wins += tuned > baseScore ? 1 : tuned == baseScore ? 0.5 : 0;
      correct +=
          sample.get("tuned").getAsString().equals(sample.get("reference").getAsString()) ? 1 : 0;
      n++;
    }
    assertEquals(8, n);
    assertEquals(tunedSum / n, metrics.get("reward").getCheckpointValue(), 1e-9);
    assertEquals(baseSum / n, metrics.get("reward").getBaseValue(), 1e-9);
    assertEquals(wins / n, metrics.get("win_rate").getCheckpointValue(), 1e-9);
    assertEquals(1 - wins / n, metrics.get("win_rate").getBaseValue(), 1e-9);
    for (MetricResult metric : metrics.values()) {
      assertEquals(
          metric.getCheckpointValue() - metric.getBaseValue(),
          metric.getDelta(),
          1e-12,
          metric.getName() + " delta");
    }
    assertEquals((double) correct / n, metrics.get("accuracy").getCheckpointValue(), 1e-9);
  }

  /** A reward model job is scored by pairwise accuracy against the head it started from. */
  @Test
  void aRewardModelIsScoredByPairwiseAccuracy() throws Exception {
    String jobId = "rm-eval-" + UUID.randomUUID();
    Path base = TestModels.base(store, "tiny-rm-eval", 9);
    Path saved = Files.createTempDirectory("rm-eval");
    try (LlamaModel backbone = LlamaModel.load(base, Compute.CPU_FLOAT32, Projections.DENSE);
        dev.tuneforge.llm.preference.RewardModel model =
            dev.tuneforge.llm.preference.RewardModel.fromCausalLm(backbone, 77)) {
      model.save(saved, base);
    }
    put(saved, "jobs/" + jobId + "/final/");
    StringBuilder test = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      test.append("{\"prompt\":\"q")
          .append(i)
          .append("\",\"chosen\":\" good answer\",\"rejected\":\" bad\"}\n");
    }
    store.put(
        "datasets/" + jobId + "/test.jsonl",
        test.toString().getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");
    kafka.publish(
        SampleEvents.checkpointSaved(jobId).toBuilder()
            .setCheckpointId("final")
            .setObjectPrefix("jobs/" + jobId + "/final/")
            .setKind(CheckpointSaved.Kind.FULL_WEIGHTS)
            .setBaseModel(ModelRef.newBuilder().setName("tiny-rm-eval"))
            .setSpec(
                SampleEvents.jobSpec(jobId).toBuilder()
                    .setMethod(dev.tuneforge.proto.v1.JobSpec.Method.REWARD_MODEL)
                    .setSeed(3))
            .setIsFinal(true)
            .build());
    EvalCompleted eval =
        kafka.awaitEvents(EvalCompleted.class, 1, e -> jobId.equals(e.getJobId())).get(0);
    Map<String, MetricResult> metrics =
        eval.getMetricsList().stream().collect(Collectors.toMap(MetricResult::getName, m -> m));
    assertEquals(java.util.Set.of("accuracy", "reward_margin"), metrics.keySet());
    double accuracy = metrics.get("accuracy").getCheckpointValue();
    assertTrue(
        accuracy >= 0 && accuracy <= 1 && Math.abs(accuracy * 6 - Math.round(accuracy * 6)) < 1e-9,
        "a share of six pairs: " + accuracy);
    assertTrue(
        metrics.get("reward_margin").getCheckpointValue()
            != metrics.get("reward_margin").getBaseValue(),
        "the trained head (seed 77) differs from the seed-3 start");
    kafka.awaitEvents(
        JobStatusChanged.class,
        1,
        s -> jobId.equals(s.getJobId()) && s.getStatus() == JobStatusChanged.Status.SUCCEEDED);
  }

  /**
   * With eval.evaluate_checkpoints an intermediate adapter checkpoint is scored too, without
   * touching the job's status; without it only the final one is.
   */
  @Test
  void intermediateCheckpointsAreEvaluatedWhenTheJobAsks() throws Exception {
    Path base = TestModels.base(store, "tiny-steps", 9);
    Path adapterDir = TestModels.adapter(base, "tiny-steps", true);
    java.util.List<String> jobs = new java.util.ArrayList<>();
    for (boolean asked : new boolean[] {true, false}) {
      String jobId = "steps-" + asked + "-" + UUID.randomUUID();
      jobs.add(jobId);
      put(adapterDir, "jobs/" + jobId + "/checkpoints/step-10/adapter/");
      store.put(
          "datasets/" + jobId + "/test.jsonl",
          "{\"prompt\":\"a\",\"completion\":\"b\"}\n".getBytes(StandardCharsets.UTF_8),
          "application/x-ndjson");
      var spec = SampleEvents.jobSpec(jobId).toBuilder();
      spec.getEvalBuilder().setEvaluateCheckpoints(asked);
      kafka.publish(
          SampleEvents.checkpointSaved(jobId).toBuilder()
              .setCheckpointId("step-10")
              .setStep(10)
              .setObjectPrefix("jobs/" + jobId + "/checkpoints/step-10/adapter/")
              .setKind(CheckpointSaved.Kind.ADAPTER)
              .setBaseModel(ModelRef.newBuilder().setName("tiny-steps"))
              .setSpec(spec)
              .setIsFinal(false)
              .build());
    }
    EvalCompleted eval =
        kafka.awaitEvents(EvalCompleted.class, 1, e -> jobs.get(0).equals(e.getJobId())).get(0);
    assertEquals("step-10", eval.getCheckpointId());
    assertEquals(10, eval.getStep());
    assertTrue(store.stat("jobs/" + jobs.get(0) + "/evals/step-10.json").isPresent());
    Thread.sleep(2000);
    assertTrue(
        kafka
            .readAll(
                dev.tuneforge.proto.Topics.EVALS_COMPLETED,
                r -> TestKafka.is(r, EvalCompleted.class, e -> jobs.get(1).equals(e.getJobId())))
            .isEmpty(),
        "not asked: not evaluated");
    assertTrue(
        kafka
            .readAll(
                dev.tuneforge.proto.Topics.JOBS_STATUS,
                r -> TestKafka.is(r, JobStatusChanged.class, c -> jobs.contains(c.getJobId())))
            .isEmpty(),
        "an intermediate checkpoint changes no status");
  }
}
