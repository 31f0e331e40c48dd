package dev.tuneforge.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.Manifest;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.DatasetRef;
import dev.tuneforge.proto.v1.DatasetSplit;
import dev.tuneforge.proto.v1.Hyperparameters;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.ModelRef;
import dev.tuneforge.proto.v1.TrainingProgress;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A queued job really trains: a LoRA SFT run on a tiny model from the bucket reports progress,
 * commits its checkpoints (only save_total_limit kept) and its PEFT adapter, and hands the final
 * checkpoint to evaluation; a cancel stops a long run before its next step.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class TrainingRunTest {
  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;
  @Inject Artifacts artifacts;

  @BeforeEach
  void seedModel() throws Exception {
    seedTinyModel(store);
  }

  /** The tiny Llama the jobs train, under models/tiny-run/. */
  static void seedTinyModel(ObjectStore store) throws Exception {
    store.ensureBucket();
    if (store.stat("models/tiny-run/config.json").isPresent()) {
      return;
    }
    Path dir = Files.createTempDirectory("tiny-run");
    TinyLlama.write(dir, 3, new TinyLlama.Size(64, 2, 4, 2, 192));
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.toList()) {
        store.put(
            "models/tiny-run/" + file.getFileName(),
            Files.readAllBytes(file),
            "application/octet-stream");
      }
    }
  }

  /** "ABC=" -> "CBA" as prompt/completion records, as data-service writes them. */
  static String reverseTask(int records, long seed) {
    Random random = new Random(seed);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < records; i++) {
      StringBuilder word = new StringBuilder();
      for (int c = 0; c < 3; c++) {
        word.append((char) ('A' + random.nextInt(16)));
      }
      out.append("{\"prompt\":\"")
          .append(word)
          .append("=\",\"completion\":\"")
          .append(new StringBuilder(word).reverse())
          .append("\"}\n");
    }
    return out.toString();
  }

  DatasetPrepared prepared(String jobId, JobSpec.Method method, long maxSteps) {
    return prepared(store, jobId, method, maxSteps);
  }

  /** A prepared reverse-the-word dataset in the bucket and a job on the tiny model. */
  static DatasetPrepared prepared(
      ObjectStore store, String jobId, JobSpec.Method method, long maxSteps) {
    try {
      seedTinyModel(store);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    String prefix = "datasets/" + jobId + "/";
    store.put(
        prefix + "train.jsonl",
        reverseTask(300, 1).getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");
    store.put(
        prefix + "validation.jsonl",
        reverseTask(30, 2).getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");
    JobSpec spec =
        SampleEvents.jobSpec(jobId).toBuilder()
            .setMethod(method)
            .clearAdapter()
            .setBaseModel(ModelRef.newBuilder().setName("tiny-run"))
            .setDataset(DatasetRef.newBuilder().setTrainingFile("uploads/acme/x.jsonl"))
            .setHyperparameters(
                Hyperparameters.newBuilder()
                    .setMaxSteps(maxSteps)
                    .setPerDeviceTrainBatchSize(8)
                    .setLearningRate(5e-3)
                    .setLoggingSteps(5)
                    .setEvalSteps(10)
                    .setSaveSteps(10)
                    .setSaveTotalLimit(1)
                    .setMaxSeqLength(64))
            .build();
    return DatasetPrepared.newBuilder()
        .setJobId(jobId)
        .setDatasetId(jobId)
        .setSpec(spec)
        .setFormat(DatasetRef.Format.PROMPT_COMPLETION)
        .setManifestKey(prefix + "manifest.json")
        .addSplits(
            DatasetSplit.newBuilder()
                .setName("train")
                .setObjectKey(prefix + "train.jsonl")
                .setExamples(300)
                .setTokens(6000))
        .addSplits(
            DatasetSplit.newBuilder()
                .setName("validation")
                .setObjectKey(prefix + "validation.jsonl")
                .setExamples(30))
        .addSplits(
            DatasetSplit.newBuilder()
                .setName("test")
                .setObjectKey(prefix + "test.jsonl")
                .setExamples(0))
        .build();
  }

  @Test
  void aLoraJobTrainsCheckpointsAndHandsItsAdapterToEvaluation() {
    String jobId = "train-" + UUID.randomUUID();
    kafka.publish(prepared(jobId, JobSpec.Method.LORA, 20));

    List<TrainingProgress> progress =
        kafka.awaitEvents(TrainingProgress.class, 4, p -> jobId.equals(p.getJobId()));
    assertEquals(
        List.of(5L, 10L, 15L, 20L), progress.stream().map(TrainingProgress::getStep).toList());
    assertEquals(20, progress.get(3).getTotalSteps());
    assertEquals(100.0, progress.get(3).getPercentDone(), 1e-9);
    assertTrue(progress.get(1).hasEvalLoss(), "evaluated at step 10");
    assertTrue(progress.get(3).getLoss() < progress.get(0).getLoss(), "the loss falls");

    List<CheckpointSaved> saved =
        kafka.awaitEvents(CheckpointSaved.class, 3, c -> jobId.equals(c.getJobId()));
    assertEquals(
        List.of("step-10", "step-20", "final"),
        saved.stream().map(CheckpointSaved::getCheckpointId).toList());
    CheckpointSaved last = saved.get(2);
    assertTrue(last.getIsFinal());
    // 20 steps of batch 8 over 300 examples of 6000 tokens: 20/38 of an epoch.
    assertEquals(Math.round(6000.0 * 20 / 38), last.getTrainedTokens());
    assertEquals(CheckpointSaved.Kind.ADAPTER, last.getKind());
    assertEquals("jobs/" + jobId + "/final/", last.getObjectPrefix());
    assertTrue(store.stat(last.getObjectPrefix() + "adapter_config.json").isPresent());
    assertTrue(store.stat(last.getObjectPrefix() + "adapter_model.safetensors").isPresent());
    assertTrue(artifacts.manifest(last.getObjectPrefix()).isPresent(), "committed by its manifest");
    List<Manifest> checkpoints = artifacts.committedUnder("jobs/" + jobId + "/checkpoints/");
    assertEquals(1, checkpoints.size(), "save_total_limit 1 keeps the newest");
    assertEquals("20", checkpoints.get(0).metadata().get("step"));
    assertTrue(
        store
            .stat("jobs/" + jobId + "/checkpoints/step-20/adapter/adapter_model.safetensors")
            .isPresent());
    kafka.awaitEvents(
        JobStatusChanged.class,
        1,
        s -> jobId.equals(s.getJobId()) && s.getStatus() == JobStatusChanged.Status.TRAINING);
    String scrape = io.restassured.RestAssured.get("/q/metrics").asString();
    assertTrue(
        scrape.contains("tuneforge_training_jobs_total{outcome=\"trained\"}"), "jobs counted");
    assertTrue(scrape.contains("tuneforge_checkpoint_upload_seconds_count"), "uploads timed");
    assertTrue(!scrape.contains("job_id=\"" + jobId + "\""), "an ended job's gauges are removed");
  }

  @Test
  void aCancelStopsARunBeforeItsNextStep() throws Exception {
    String jobId = "cancel-" + UUID.randomUUID();
    kafka.publish(prepared(jobId, JobSpec.Method.LORA, 100_000));
    kafka.awaitEvents(TrainingProgress.class, 1, p -> jobId.equals(p.getJobId()));
    String running = io.restassured.RestAssured.get("/q/metrics").asString();
    for (String gauge :
        List.of(
            "loss", "learning_rate", "tokens_per_second", "percent_done", "eta_seconds", "mfu")) {
      assertTrue(
          running.contains(
              "tuneforge_training_" + gauge + "{job_id=\"" + jobId + "\",method=\"lora\"}"),
          gauge + " of the running job: " + running);
    }
    kafka.publish(SampleEvents.jobCancelRequested(jobId));
    kafka.awaitEvents(
        JobStatusChanged.class,
        1,
        s -> jobId.equals(s.getJobId()) && s.getStatus() == JobStatusChanged.Status.CANCELLED);
    Thread.sleep(3000);
    int seen =
        kafka
            .readAll(dev.tuneforge.proto.Topics.TRAINING_PROGRESS, r -> jobId.equals(r.key()))
            .size();
    Thread.sleep(3000);
    assertEquals(
        seen,
        kafka
            .readAll(dev.tuneforge.proto.Topics.TRAINING_PROGRESS, r -> jobId.equals(r.key()))
            .size(),
        "no progress after the cancel");
    assertTrue(
        kafka
            .readAll(
                dev.tuneforge.proto.Topics.CHECKPOINTS_SAVED,
                r ->
                    TestKafka.is(
                        r,
                        CheckpointSaved.class,
                        c -> jobId.equals(c.getJobId()) && c.getIsFinal()))
            .isEmpty(),
        "a cancelled job has no final checkpoint");
    assertTrue(store.list("jobs/" + jobId + "/final/").isEmpty());
  }

  /** Pairs: the reversed word is chosen over the word as given. */
  static String preferences(int records, long seed) {
    Random random = new Random(seed);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < records; i++) {
      StringBuilder word = new StringBuilder();
      for (int c = 0; c < 3; c++) {
        word.append((char) ('A' + random.nextInt(16)));
      }
      out.append("{\"prompt\":\"")
          .append(word)
          .append("=\",\"chosen\":\"")
          .append(new StringBuilder(word).reverse())
          .append("\",\"rejected\":\"")
          .append(word)
          .append("Q\"}\n");
    }
    return out.toString();
  }

  DatasetPrepared preferenceJob(String jobId, JobSpec.Method method, boolean lora) {
    DatasetPrepared base = prepared(jobId, method, 10);
    String prefix = "datasets/" + jobId + "/";
    store.put(
        prefix + "train.jsonl",
        preferences(200, 1).getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");
    store.put(
        prefix + "validation.jsonl",
        preferences(20, 2).getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");
    JobSpec.Builder spec = base.getSpec().toBuilder();
    if (lora) {
      spec.setAdapter(
          dev.tuneforge.proto.v1.AdapterConfig.newBuilder()
              .setPeftType(dev.tuneforge.proto.v1.AdapterConfig.PeftType.LORA)
              .setLora(dev.tuneforge.proto.v1.LoraConfig.newBuilder().setR(8)));
    }
    spec.getHyperparametersBuilder().setLearningRate(1e-3);
    return base.toBuilder().setSpec(spec).setFormat(DatasetRef.Format.PREFERENCE).build();
  }

  /**
   * IA3 through the trainer: an SFT job (PEFT's defaults for the model's type) and a DPO job (the
   * reference is the policy with IA3 disabled) each save a PEFT IA3 adapter.
   */
  @Test
  void ia3SftAndDpoJobsSaveIa3Adapters() {
    String sft = "ia3-" + UUID.randomUUID();
    kafka.publish(prepared(sft, JobSpec.Method.IA3, 10));
    String dpo = "ia3-dpo-" + UUID.randomUUID();
    DatasetPrepared preference = preferenceJob(dpo, JobSpec.Method.DPO, false);
    JobSpec.Builder spec = preference.getSpec().toBuilder();
    spec.setAdapter(
        dev.tuneforge.proto.v1.AdapterConfig.newBuilder()
            .setPeftType(dev.tuneforge.proto.v1.AdapterConfig.PeftType.IA3)
            .setIa3(
                dev.tuneforge.proto.v1.Ia3Config.newBuilder()
                    .addTargetModules("q_proj")
                    .addTargetModules("down_proj")
                    .addFeedforwardModules("down_proj")));
    kafka.publish(preference.toBuilder().setSpec(spec).build());
    for (String jobId : List.of(sft, dpo)) {
      CheckpointSaved last =
          kafka
              .awaitEvents(
                  CheckpointSaved.class, 1, c -> jobId.equals(c.getJobId()) && c.getIsFinal())
              .get(0);
      assertEquals(CheckpointSaved.Kind.ADAPTER, last.getKind());
      String config =
          new String(
              store.getBytes(last.getObjectPrefix() + "adapter_config.json"),
              StandardCharsets.UTF_8);
      assertTrue(config.contains("\"peft_type\": \"IA3\""), config);
      assertTrue(
          config.contains(jobId.equals(sft) ? "\"k_proj\"" : "\"q_proj\""),
          "the modules asked for, or PEFT's llama defaults: " + config);
    }
  }

  /**
   * Prompt tuning through the trainer: an SFT job with TEXT initialisation and a DPO job (the
   * reference is the policy with its virtual tokens off) each save a PEFT prompt tuning adapter.
   */
  @Test
  void promptTuningSftAndDpoJobsSavePromptTuningAdapters() {
    String sft = "prompt-" + UUID.randomUUID();
    DatasetPrepared supervised = prepared(sft, JobSpec.Method.PROMPT, 10);
    JobSpec.Builder sftSpec = supervised.getSpec().toBuilder();
    sftSpec
        .getAdapterBuilder()
        .setPeftType(dev.tuneforge.proto.v1.AdapterConfig.PeftType.PROMPT_TUNING)
        .getPromptLearningBuilder()
        .setNumVirtualTokens(4)
        .setPromptTuningInit("TEXT")
        .setPromptTuningInitText("Reverse it");
    kafka.publish(supervised.toBuilder().setSpec(sftSpec).build());
    String dpo = "prompt-dpo-" + UUID.randomUUID();
    DatasetPrepared preference = preferenceJob(dpo, JobSpec.Method.DPO, false);
    JobSpec.Builder spec = preference.getSpec().toBuilder();
    spec.setAdapter(
        dev.tuneforge.proto.v1.AdapterConfig.newBuilder()
            .setPeftType(dev.tuneforge.proto.v1.AdapterConfig.PeftType.PROMPT_TUNING)
            .setPromptLearning(
                dev.tuneforge.proto.v1.PromptLearningConfig.newBuilder().setNumVirtualTokens(3)));
    kafka.publish(preference.toBuilder().setSpec(spec).build());
    for (String jobId : List.of(sft, dpo)) {
      CheckpointSaved last =
          kafka
              .awaitEvents(
                  CheckpointSaved.class, 1, c -> jobId.equals(c.getJobId()) && c.getIsFinal())
              .get(0);
      assertEquals(CheckpointSaved.Kind.ADAPTER, last.getKind());
      String config =
          new String(
              store.getBytes(last.getObjectPrefix() + "adapter_config.json"),
              StandardCharsets.UTF_8);
      assertTrue(config.contains("\"peft_type\": \"PROMPT_TUNING\""), config);
      assertTrue(
          config.contains(
              jobId.equals(sft) ? "\"num_virtual_tokens\": 4" : "\"num_virtual_tokens\": 3"),
          config);
      if (jobId.equals(sft)) {
        assertTrue(config.contains("\"prompt_tuning_init_text\": \"Reverse it\""), config);
      }
    }
  }

  /** A DPO job with prefix tuning: the reference is the policy with its prefix off. */
  @Test
  void aPrefixTuningDpoJobSavesAPrefixTuningAdapter() {
    String job = "prefix-dpo-" + UUID.randomUUID();
    DatasetPrepared preference = preferenceJob(job, JobSpec.Method.DPO, false);
    JobSpec.Builder spec = preference.getSpec().toBuilder();
    spec.setAdapter(
        dev.tuneforge.proto.v1.AdapterConfig.newBuilder()
            .setPeftType(dev.tuneforge.proto.v1.AdapterConfig.PeftType.PREFIX_TUNING)
            .setPromptLearning(
                dev.tuneforge.proto.v1.PromptLearningConfig.newBuilder().setNumVirtualTokens(3)));
    kafka.publish(preference.toBuilder().setSpec(spec).build());
    List<TrainingProgress> progress =
        kafka.awaitEvents(TrainingProgress.class, 1, p -> job.equals(p.getJobId()));
    assertTrue(progress.get(0).getMetricsMap().containsKey("rewards/accuracies"), "" + progress);
    CheckpointSaved last =
        kafka
            .awaitEvents(CheckpointSaved.class, 1, c -> job.equals(c.getJobId()) && c.getIsFinal())
            .get(0);
    String config =
        new String(
            store.getBytes(last.getObjectPrefix() + "adapter_config.json"), StandardCharsets.UTF_8);
    assertTrue(config.contains("\"peft_type\": \"PREFIX_TUNING\""), config);
    assertTrue(config.contains("\"num_virtual_tokens\": 3"), config);
  }

  /** Prefix tuning through the trainer: an SFT job with the projection MLP saves its prefix. */
  @Test
  void aPrefixTuningJobSavesAPrefixTuningAdapter() {
    String job = "prefix-" + UUID.randomUUID();
    DatasetPrepared supervised = prepared(job, JobSpec.Method.PREFIX, 10);
    JobSpec.Builder spec = supervised.getSpec().toBuilder();
    spec.getAdapterBuilder()
        .setPeftType(dev.tuneforge.proto.v1.AdapterConfig.PeftType.PREFIX_TUNING)
        .getPromptLearningBuilder()
        .setNumVirtualTokens(5)
        .setPrefixProjection(true)
        .setEncoderHiddenSize(24);
    kafka.publish(supervised.toBuilder().setSpec(spec).build());
    CheckpointSaved last =
        kafka
            .awaitEvents(CheckpointSaved.class, 1, c -> job.equals(c.getJobId()) && c.getIsFinal())
            .get(0);
    assertEquals(CheckpointSaved.Kind.ADAPTER, last.getKind());
    String config =
        new String(
            store.getBytes(last.getObjectPrefix() + "adapter_config.json"), StandardCharsets.UTF_8);
    assertTrue(config.contains("\"peft_type\": \"PREFIX_TUNING\""), config);
    assertTrue(config.contains("\"encoder_hidden_size\": 24"), config);
    assertTrue(config.contains("\"num_virtual_tokens\": 5"), config);
  }

  /** AdaLoRA through the trainer: the final adapter carries its rank pattern at the target. */
  @Test
  void anAdaLoraJobSavesItsRankPattern() {
    String job = "adalora-" + UUID.randomUUID();
    DatasetPrepared supervised = prepared(job, JobSpec.Method.ADALORA, 10);
    JobSpec.Builder spec = supervised.getSpec().toBuilder();
    spec.getAdapterBuilder()
        .setPeftType(dev.tuneforge.proto.v1.AdapterConfig.PeftType.ADALORA)
        .setAdalora(
            dev.tuneforge.proto.v1.AdaLoraConfig.newBuilder()
                .setInitR(6)
                .setTargetR(2)
                .setTinit(2)
                .setTfinal(3));
    kafka.publish(supervised.toBuilder().setSpec(spec).build());
    CheckpointSaved last =
        kafka
            .awaitEvents(CheckpointSaved.class, 1, c -> job.equals(c.getJobId()) && c.getIsFinal())
            .get(0);
    String config =
        new String(
            store.getBytes(last.getObjectPrefix() + "adapter_config.json"), StandardCharsets.UTF_8);
    assertTrue(config.contains("\"peft_type\": \"ADALORA\""), config);
    assertTrue(config.contains("\"total_step\": 10"), config);
    var pattern =
        com.google.gson.JsonParser.parseString(config)
            .getAsJsonObject()
            .getAsJsonObject("rank_pattern");
    long kept =
        pattern.entrySet().stream()
            .flatMap(e -> e.getValue().getAsJsonArray().asList().stream())
            .filter(com.google.gson.JsonElement::getAsBoolean)
            .count();
    assertEquals(2L * pattern.size(), kept, "target_r 2 on average: " + pattern);
  }

  @Test
  void aLoraDpoJobTrainsWithTrlsFiguresAndSavesItsAdapter() {
    String jobId = "dpo-" + UUID.randomUUID();
    kafka.publish(preferenceJob(jobId, JobSpec.Method.DPO, true));
    List<TrainingProgress> progress =
        kafka.awaitEvents(TrainingProgress.class, 2, p -> jobId.equals(p.getJobId()));
    assertTrue(progress.get(1).getMetricsMap().containsKey("rewards/accuracies"), "" + progress);
    assertTrue(progress.get(1).getMetricsMap().containsKey("logps/chosen"));
    CheckpointSaved last =
        kafka
            .awaitEvents(
                CheckpointSaved.class, 1, c -> jobId.equals(c.getJobId()) && c.getIsFinal())
            .get(0);
    assertEquals(CheckpointSaved.Kind.ADAPTER, last.getKind());
    assertTrue(store.stat(last.getObjectPrefix() + "adapter_config.json").isPresent());
    assertTrue(
        store
            .stat("jobs/" + jobId + "/checkpoints/step-10/adapter/adapter_config.json")
            .isPresent(),
        "the step-10 checkpoint is committed with its adapter");
  }

  @Test
  void aRewardModelJobSavesASequenceClassificationModel() {
    String jobId = "rm-" + UUID.randomUUID();
    kafka.publish(preferenceJob(jobId, JobSpec.Method.REWARD_MODEL, false));
    List<TrainingProgress> progress =
        kafka.awaitEvents(TrainingProgress.class, 2, p -> jobId.equals(p.getJobId()));
    assertTrue(progress.get(1).getMetricsMap().containsKey("accuracy"), "" + progress);
    CheckpointSaved last =
        kafka
            .awaitEvents(
                CheckpointSaved.class, 1, c -> jobId.equals(c.getJobId()) && c.getIsFinal())
            .get(0);
    assertEquals(CheckpointSaved.Kind.FULL_WEIGHTS, last.getKind());
    String config =
        new String(store.getBytes(last.getObjectPrefix() + "config.json"), StandardCharsets.UTF_8);
    assertTrue(config.contains("LlamaForSequenceClassification"), config);
    assertTrue(store.stat(last.getObjectPrefix() + "model.safetensors").isPresent());
  }

  @Test
  void aPpoJobWithoutARewardModelFailsByName() {
    String jobId = "ppo-" + UUID.randomUUID();
    kafka.publish(prepared(jobId, JobSpec.Method.PPO, 10));
    JobStatusChanged failed = kafka.awaitStatus(jobId, JobStatusChanged.Status.FAILED);
    assertTrue(failed.getReason().contains("ppo.reward_model is required"), failed.getReason());
  }

  @Test
  void aJobAskingForAGpuTheNodeLacksFailsByName() {
    String jobId = "gpu-" + UUID.randomUUID();
    DatasetPrepared base = prepared(jobId, JobSpec.Method.LORA, 10);
    JobSpec.Builder spec = base.getSpec().toBuilder();
    spec.getComputeBuilder().setDevice("cuda:3");
    kafka.publish(base.toBuilder().setSpec(spec).build());
    JobStatusChanged failed = kafka.awaitStatus(jobId, JobStatusChanged.Status.FAILED);
    assertTrue(failed.getReason().contains("device cuda:3 was asked for"), failed.getReason());
  }

  @Test
  void aPpoJobWhoseMiniBatchesDoNotDivideItsBatchFailsByName() {
    String jobId = "ppo-mb-" + UUID.randomUUID();
    DatasetPrepared base = prepared(jobId, JobSpec.Method.PPO, 10);
    JobSpec.Builder spec = base.getSpec().toBuilder();
    spec.setPpo(
        dev.tuneforge.proto.v1.PpoConfig.newBuilder().setRewardModel("judge").setNumMiniBatches(3));
    kafka.publish(base.toBuilder().setSpec(spec).build());
    JobStatusChanged failed = kafka.awaitStatus(jobId, JobStatusChanged.Status.FAILED);
    assertTrue(
        failed.getReason().contains("ppo.num_mini_batches must divide the rollout batch")
            && failed.getReason().contains("= 8) but was 3"),
        failed.getReason());
  }

  /**
   * Limits are per tenant: tenant "small" may plan 50 steps (the test profile's {@code
   * tuneforge.limits.tenants.small.max-job-steps}), so its 60-step job fails where acme's runs.
   */
  @Test
  void aTenantsOwnStepLimitHoldsForItsJobsOnly() {
    String jobId = "small-" + UUID.randomUUID();
    DatasetPrepared base = prepared(jobId, JobSpec.Method.LORA, 60);
    JobSpec.Builder spec = base.getSpec().toBuilder().setTenant("small");
    kafka.publish(base.toBuilder().setSpec(spec).build());
    JobStatusChanged failed = kafka.awaitStatus(jobId, JobStatusChanged.Status.FAILED);
    assertTrue(
        failed
            .getReason()
            .contains(
                "the job would run 60 optimizer steps, over tenant small's limit of 50"
                    + " (tuneforge.limits.tenants.small.max-job-steps)"),
        failed.getReason());
  }

  /**
   * A job that would run more optimizer steps than the trainer allows (200,000 in the test profile)
   * fails before it trains, naming the limit: one request cannot hold the replica for good.
   */
  @Test
  void aJobOverTheStepLimitFailsBeforeItTrains() {
    String jobId = "steps-" + UUID.randomUUID();
    DatasetPrepared base = prepared(jobId, JobSpec.Method.LORA, 10);
    JobSpec.Builder spec = base.getSpec().toBuilder();
    spec.getHyperparametersBuilder().clearMaxSteps().setNumTrainEpochs(6000); // 38 steps an epoch
    kafka.publish(base.toBuilder().setSpec(spec).build());
    JobStatusChanged failed = kafka.awaitStatus(jobId, JobStatusChanged.Status.FAILED);
    assertTrue(
        failed
            .getReason()
            .contains(
                "the job would run 228000 optimizer steps, over tenant acme's"
                    + " limit of 200000 (tuneforge.limits.max-job-steps)"),
        failed.getReason());
    assertTrue(
        kafka
            .readAll(dev.tuneforge.proto.Topics.TRAINING_PROGRESS, r -> jobId.equals(r.key()))
            .isEmpty(),
        "nothing trained");
  }
}
