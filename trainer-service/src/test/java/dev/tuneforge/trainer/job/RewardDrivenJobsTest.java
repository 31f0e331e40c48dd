package dev.tuneforge.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.run.Runs;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.EventCodec;
import dev.tuneforge.proto.v1.BestOfNConfig;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.DatasetRef;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.PpoConfig;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.RewardScores;
import dev.tuneforge.proto.v1.TrainingProgress;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * PPO, online DPO and Best-of-N jobs are scored by their reward model: PPO by reward-service over
 * Kafka request/reply (here a stand-in that drops the first request, so the client's retry is
 * exercised), online DPO and Best-of-N by a reward model the trainer loads itself.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class RewardDrivenJobsTest {
  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;

  /** One answered request: its id, the replica to answer and the scores sent. */
  record Answered(String correlationId, String replyTo, List<Double> scores) {}

  /** The rule the stand-in scores by: the share of the response's letters in A-H. */
  static double rule(String response) {
    long letters = response.chars().filter(Character::isLetter).count();
    long low = response.chars().filter(c -> c >= 'A' && c <= 'H').count();
    return letters == 0 ? 0 : (double) low / letters;
  }

  @Test
  void aPpoJobIsScoredByRewardServiceWithBatchingCorrelationAndRetry() throws Exception {
    String jobId = "ppo-" + UUID.randomUUID();
    List<RewardRequest> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Answered> answered = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    Thread standIn =
        new Thread(() -> serve(jobId, received, answered, running), "reward-service-stand-in");
    standIn.start();
    try {
      DatasetPrepared base = TrainingRunTest.prepared(store, jobId, JobSpec.Method.PPO, 3);
      JobSpec.Builder spec = base.getSpec().toBuilder();
      spec.setAdapter(LORA_R8);
      spec.setPpo(
          PpoConfig.newBuilder()
              .setRewardModel("letters")
              .setNumMiniBatches(2)
              .setNumPpoEpochs(1)
              .setResponseLength(6));
      spec.getHyperparametersBuilder().setLoggingSteps(1).setSaveSteps(2).setLearningRate(1e-3);
      kafka.publish(
          base.toBuilder().setSpec(spec).setFormat(DatasetRef.Format.PROMPT_ONLY).build());

      List<TrainingProgress> progress =
          kafka.awaitEvents(TrainingProgress.class, 3, p -> jobId.equals(p.getJobId()));
      assertTrue(
          progress.stream().allMatch(p -> p.getLearningRate() > 0 && p.getGradNorm() > 0),
          "PPO reports its learning rate and gradient norm: " + progress);
      CheckpointSaved last = finalCheckpoint(jobId);
      assertEquals(CheckpointSaved.Kind.ADAPTER, last.getKind());
      assertTrue(store.stat(last.getObjectPrefix() + "adapter_model.safetensors").isPresent());
      assertTrue(
          store
              .stat("jobs/" + jobId + "/checkpoints/step-2/adapter/adapter_config.json")
              .isPresent());

      // 3 steps x 8 prompts in requests of at most 4 (batch-size 4), each with a correlation id
      // and this replica as reply_to; the dropped first request was sent again with its id.
      Set<String> ids = new HashSet<>();
      received.forEach(r -> ids.add(r.getCorrelationId()));
      assertEquals(6, ids.size(), "six distinct requests: " + received.size());
      assertEquals(7, received.size(), "the unanswered one was sent twice");
      assertEquals(received.get(0).getCorrelationId(), answered.get(1).correlationId());
      for (RewardRequest request : received) {
        assertEquals(4, request.getItemsCount());
        assertEquals("letters", request.getRewardModel());
        assertTrue(request.getReplyTo().startsWith("trainer-"), request.getReplyTo());
      }
      // The step's objective/scores is the mean of exactly what reward-service answered.
      double sum = 0;
      for (Answered a : answered.subList(0, 2)) {
        for (double score : a.scores()) {
          sum += score;
        }
      }
      Map<String, Double> first = progress.get(0).getMetricsMap();
      assertEquals(sum / 8, first.get("objective/scores"), 1e-9, "" + first);
      assertTrue(first.containsKey("objective/kl"));
      assertTrue(first.containsKey("loss/value_avg"));
    } finally {
      running.set(false);
      standIn.join(10_000);
    }
  }

  /** A stand-in for reward-service: answers every request but the job's first. */
  private void serve(
      String jobId, List<RewardRequest> received, List<Answered> answered, AtomicBoolean running) {
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                RealStackResource.kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "stand-in-" + jobId,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest"),
            new StringDeserializer(),
            new StringDeserializer())) {
      consumer.subscribe(List.of("reward.requests"));
      while (running.get()) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          RewardRequest request = EventCodec.parse(record.value(), RewardRequest.class);
          if (!jobId.equals(request.getJobId())) {
            continue;
          }
          received.add(request);
          if (received.size() == 1) {
            continue; // dropped: the trainer must send it again
          }
          List<Double> scores = new ArrayList<>();
          request.getItemsList().forEach(i -> scores.add(rule(i.getResponse())));
          answered.add(new Answered(request.getCorrelationId(), request.getReplyTo(), scores));
          kafka.publish(
              RewardScores.newBuilder()
                  .setCorrelationId(request.getCorrelationId())
                  .setRewardModel(request.getRewardModel())
                  .setJobId(jobId)
                  .setReplyTo(request.getReplyTo())
                  .addAllScores(scores)
                  .build());
        }
      }
    }
  }

  @Test
  void aBestOfNJobRanksSamplesWithALocalRewardModelAndTrainsOnTheBest() throws Exception {
    seedLocalRewardModel();
    String jobId = "bon-" + UUID.randomUUID();
    DatasetPrepared base = TrainingRunTest.prepared(store, jobId, JobSpec.Method.BEST_OF_N, 4);
    JobSpec.Builder spec = base.getSpec().toBuilder();
    spec.setBestOfN(
        BestOfNConfig.newBuilder().setRewardModel("local-rm").setN(3).setMaxNewTokens(4));
    kafka.publish(base.toBuilder().setSpec(spec).setFormat(DatasetRef.Format.PROMPT_ONLY).build());
    CheckpointSaved last = finalCheckpoint(jobId);
    assertEquals(CheckpointSaved.Kind.FULL_WEIGHTS, last.getKind(), "no adapter: full SFT");
    assertTrue(
        last.getMetricsMap().get("best_of_n/mean_best_score")
            >= last.getMetricsMap().get("best_of_n/mean_score"));
    List<String> samples =
        new String(
                store.getBytes(last.getObjectPrefix() + Runs.BEST_OF_N_SAMPLES),
                StandardCharsets.UTF_8)
            .lines()
            .toList();
    assertEquals(300, samples.size(), "one ranking per prompt");
    com.google.gson.JsonObject first =
        com.google.gson.JsonParser.parseString(samples.get(0)).getAsJsonObject();
    assertEquals(3, first.getAsJsonArray("candidates").size());
    double best = first.get("best_score").getAsDouble();
    for (var candidate : first.getAsJsonArray("candidates")) {
      assertTrue(candidate.getAsJsonObject().get("score").getAsDouble() <= best);
    }
    assertTrue(store.stat(last.getObjectPrefix() + "model.safetensors").isPresent());
  }

  /**
   * Online DPO (RLAIF) on prompt-only data, its two samples per prompt judged by a reward model the
   * trainer loads itself: TRL's figures arrive with the progress, and the LoRA result is saved.
   */
  @Test
  void anOnlineDpoJobIsJudgedByItsRewardModelAndSavesItsAdapter() throws Exception {
    seedLocalRewardModel();
    String jobId = "online-dpo-" + UUID.randomUUID();
    DatasetPrepared base = TrainingRunTest.prepared(store, jobId, JobSpec.Method.ONLINE_DPO, 3);
    JobSpec.Builder spec = base.getSpec().toBuilder();
    spec.setAdapter(LORA_R8);
    spec.setOnlineDpo(
        dev.tuneforge.proto.v1.OnlineDpoConfig.newBuilder()
            .setRewardModel("local-rm")
            .setMaxNewTokens(6)
            .setMissingEosPenalty(1.0));
    spec.getHyperparametersBuilder().setLoggingSteps(1).setLearningRate(1e-3);
    kafka.publish(base.toBuilder().setSpec(spec).setFormat(DatasetRef.Format.PROMPT_ONLY).build());
    List<TrainingProgress> progress =
        kafka.awaitEvents(TrainingProgress.class, 3, p -> jobId.equals(p.getJobId()));
    Map<String, Double> figures = progress.get(2).getMetricsMap();
    for (String name :
        List.of(
            "objective/kl",
            "objective/scores",
            "objective/rlhf_reward",
            "rewards/margins",
            "val/contain_eos_token",
            "judge/no_verdict")) {
      assertTrue(figures.containsKey(name), name + " in " + figures.keySet());
    }
    assertTrue(progress.get(2).getLearningRate() > 0 && progress.get(2).getGradNorm() > 0);
    CheckpointSaved last = finalCheckpoint(jobId);
    assertEquals(CheckpointSaved.Kind.ADAPTER, last.getKind());
    assertTrue(store.stat(last.getObjectPrefix() + "adapter_model.safetensors").isPresent());
  }

  /**
   * Online DPO judged by a registered model (an LLM as the judge): the trainer fetches it from
   * models/{name}/ beside the base and asks it about every pair in both orders. The random tiny
   * judge answers no 0 or 1, so its replies are counted unparseable and leave the pairs untrained;
   * a pairwise judge gives no scores, so no score figure appears.
   */
  @Test
  void anOnlineDpoJobIsJudgedByItsJudgeModel() throws Exception {
    String jobId = "online-judged-" + UUID.randomUUID();
    DatasetPrepared base = TrainingRunTest.prepared(store, jobId, JobSpec.Method.ONLINE_DPO, 2);
    JobSpec.Builder spec = base.getSpec().toBuilder();
    spec.setAdapter(LORA_R8);
    spec.setOnlineDpo(
        dev.tuneforge.proto.v1.OnlineDpoConfig.newBuilder()
            .setJudgeModel(spec.getBaseModel().getName())
            .setJudgeTemplate("Better, 0 or 1? {prompt}\n0: {first}\n1: {second}\n")
            .setMaxNewTokens(4));
    spec.getHyperparametersBuilder().setLoggingSteps(1).setLearningRate(1e-3);
    kafka.publish(base.toBuilder().setSpec(spec).setFormat(DatasetRef.Format.PROMPT_ONLY).build());
    List<TrainingProgress> progress =
        kafka.awaitEvents(TrainingProgress.class, 2, p -> jobId.equals(p.getJobId()));
    for (TrainingProgress step : progress) {
      Map<String, Double> figures = step.getMetricsMap();
      double counted = figures.get("judge/unparseable") + figures.get("judge/inconsistent");
      assertEquals(figures.get("judge/no_verdict"), counted, 1e-9, figures.toString());
      assertTrue(!figures.containsKey("objective/scores"), figures.keySet().toString());
    }
    CheckpointSaved last = finalCheckpoint(jobId);
    assertEquals(CheckpointSaved.Kind.ADAPTER, last.getKind());
  }

  /** A LoRA adapter of rank 8. */
  private static final dev.tuneforge.proto.v1.AdapterConfig LORA_R8 =
      dev.tuneforge.proto.v1.AdapterConfig.newBuilder()
          .setPeftType(dev.tuneforge.proto.v1.AdapterConfig.PeftType.LORA)
          .setLora(dev.tuneforge.proto.v1.LoraConfig.newBuilder().setR(8))
          .build();

  /** The job's final checkpoint, once saved. */
  private CheckpointSaved finalCheckpoint(String jobId) {
    return kafka
        .awaitEvents(CheckpointSaved.class, 1, c -> jobId.equals(c.getJobId()) && c.getIsFinal())
        .get(0);
  }

  private void seedLocalRewardModel() throws Exception {
    store.ensureBucket();
    if (store.stat("models/tiny-rm-local/config.json").isPresent()) {
      return;
    }
    Path basePath = Files.createTempDirectory("rm-base");
    TinyLlama.write(basePath, 3, new TinyLlama.Size(64, 2, 4, 2, 192));
    Path saved = Files.createTempDirectory("rm");
    try (LlamaModel backbone = LlamaModel.load(basePath, Compute.CPU_FLOAT32, Projections.DENSE);
        RewardModel model = RewardModel.fromCausalLm(backbone, 2)) {
      model.save(saved, basePath);
    }
    try (Stream<Path> files = Files.list(saved)) {
      for (Path file : files.toList()) {
        store.put(
            "models/tiny-rm-local/" + file.getFileName(),
            Files.readAllBytes(file),
            "application/octet-stream");
      }
    }
  }
}
