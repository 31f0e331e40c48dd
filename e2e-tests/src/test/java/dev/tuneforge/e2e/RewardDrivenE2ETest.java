package dev.tuneforge.e2e;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.proto.v1.EvalCompleted;
import dev.tuneforge.proto.v1.MetricResult;
import dev.tuneforge.proto.v1.RewardItem;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.RewardScores;
import dev.tuneforge.proto.v1.TrainingProgress;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every service as its own process, reward-service as two replicas of one consumer group serving a
 * judge reward model from the bucket: a DPO job, a PPO job and an online DPO job (both scored by
 * reward-service over Kafka) train through the gateway and are evaluated with reward and win rate;
 * reward requests streamed at both replicas are shared between them, and none is lost when one
 * replica is killed.
 */
class RewardDrivenE2ETest {
  static final String JUDGE = "judge";
  @TempDir static Path home;
  static E2eStack stack;

  @BeforeAll
  static void start() throws Exception {
    stack = new E2eStack(home);
    Path judge = home.resolve("judge-rm");
    try (LlamaModel backbone =
            LlamaModel.load(home.resolve("tiny-llama"), Compute.CPU_FLOAT32, Projections.DENSE);
        RewardModel model = RewardModel.fromCausalLm(backbone, 7)) {
      model.save(judge, home.resolve("tiny-llama"));
    }
    stack.putDirectory(judge, "models/judge-rm/");
    Map<String, String> rewards = Map.of("TUNEFORGE_REWARD_MODELS", JUDGE + "=models/judge-rm/");
    stack.start("reward-service-a", "reward-service", rewards);
    stack.start("reward-service-b", "reward-service", rewards);
    stack.start("data-service");
    stack.start("trainer-service");
    stack.start(
        "eval-service",
        "eval-service",
        Map.of("TUNEFORGE_REWARD_SERVICE_URL", stack.url("reward-service-a")));
    stack.start("gateway", "gateway", Map.of("TUNEFORGE_SERVING_URL", stack.url("eval-service")));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  static RequestSpecification api() {
    return stack.api();
  }

  static String upload(String name, String content) {
    return stack.upload(name, content);
  }

  static String create(String body) {
    return api()
        .contentType(ContentType.JSON)
        .body(body)
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(200)
        .extract()
        .path("id");
  }

  /** Waits for {@code job} to end; its view, which must say succeeded. */
  static io.restassured.path.json.JsonPath awaitEnded(String job) {
    try {
      Awaitility.await()
          .atMost(Duration.ofSeconds(180))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  List.of("succeeded", "failed", "cancelled")
                      .contains(api().get("/v1/fine_tuning/jobs/" + job).path("status")));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("job " + job + " did not end", e);
    }
    io.restassured.path.json.JsonPath view = api().get("/v1/fine_tuning/jobs/" + job).jsonPath();
    assertEquals("succeeded", view.getString("status"), view.prettify() + stack.events(job));
    return view;
  }

  static void awaitSucceeded(String job) {
    assertEquals("ft:tiny-llama:acme::" + job, awaitEnded(job).getString("fine_tuned_model"));
  }

  static Map<String, MetricResult> eval(String job) {
    return stack
        .topics
        .awaitEvents(EvalCompleted.class, 1, e -> job.equals(e.getJobId()))
        .get(0)
        .getMetricsList()
        .stream()
        .collect(Collectors.toMap(MetricResult::getName, m -> m));
  }

  static String numbers(int count, long seed, java.util.function.IntFunction<String> record) {
    List<Integer> numbers = new ArrayList<>();
    for (int x = 100; x < 10_000; x++) {
      numbers.add(x);
    }
    java.util.Collections.shuffle(numbers, new java.util.Random(seed));
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < count; i++) {
      out.append(record.apply(numbers.get(i))).append('\n');
    }
    return out.toString();
  }

  @Test
  void aDpoJobTrainsOnPreferencesAndIsJudgedByTheRewardModel() {
    String data =
        numbers(
            200,
            3,
            x ->
                "{\"prompt\":\"Is "
                    + x
                    + " even or odd?\",\"chosen\":\" "
                    + (x % 2 == 0 ? "even" : "odd")
                    + "\",\"rejected\":\" "
                    + (x % 2 == 0 ? "odd" : "even")
                    + "\"}");
    String job =
        create(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + upload("prefs.jsonl", data)
                + "\", \"adapter\": {\"type\": \"lora\", \"r\": 8}, \"eval\": {\"reward_model\":"
                + " \"judge\"}, \"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\":"
                + " {\"beta\": 0.1, \"max_steps\": 20, \"batch_size\": 8, \"learning_rate\": 1e-3,"
                + " \"logging_steps\": 5}}}}");
    awaitSucceeded(job);
    List<TrainingProgress> progress =
        stack.topics.awaitEvents(TrainingProgress.class, 4, p -> job.equals(p.getJobId()));
    assertTrue(progress.get(3).getMetricsMap().containsKey("rewards/accuracies"), "" + progress);
    Map<String, MetricResult> metrics = eval(job);
    assertTrue(
        metrics.keySet().containsAll(List.of("perplexity", "reward", "win_rate", "exact_match")),
        "" + metrics.keySet());
    assertTrue(stack.store.stat("jobs/" + job + "/final/adapter_model.safetensors").isPresent());
  }

  @Test
  void aPpoJobIsScoredByRewardServiceAndEvaluatedWithRewardAndWinRate() {
    String job =
        promptOnlyJob(
            4, "ppo", "\"num_mini_batches\": 2, \"response_length\": 8, \"learning_rate\": 1e-4");
    List<TrainingProgress> progress =
        stack.topics.awaitEvents(TrainingProgress.class, 4, p -> job.equals(p.getJobId()));
    assertTrue(progress.get(0).getMetricsMap().containsKey("objective/scores"), "" + progress);
    assertTrue(progress.get(0).getMetricsMap().containsKey("objective/kl"));
    // The scores came from reward-service: its requests carry the job's id.
    List<RewardRequest> requests = requestsOf(job);
    assertTrue(requests.size() >= 4, "one request or more per PPO step: " + requests.size());
    Map<String, MetricResult> metrics = eval(job);
    assertTrue(metrics.keySet().containsAll(List.of("reward", "win_rate")), "" + metrics.keySet());
    var winRate = metrics.get("win_rate");
    assertEquals(1.0, winRate.getCheckpointValue() + winRate.getBaseValue(), 1e-9);
  }

  /** RLAIF through the API: online DPO's pairs are judged by reward-service's reward model. */
  @Test
  void anOnlineDpoJobIsJudgedByRewardServiceAndEvaluatedWithRewardAndWinRate() {
    String job = promptOnlyJob(5, "online_dpo", "\"max_new_tokens\": 8, \"learning_rate\": 1e-4");
    List<TrainingProgress> progress =
        stack.topics.awaitEvents(TrainingProgress.class, 4, p -> job.equals(p.getJobId()));
    for (String name : List.of("objective/kl", "objective/scores", "rewards/margins")) {
      assertTrue(progress.get(3).getMetricsMap().containsKey(name), name + ": " + progress);
    }
    List<RewardRequest> requests = requestsOf(job);
    // both completions of every prompt are scored: 4 steps x 2 x 8 prompts
    assertTrue(
        requests.stream().mapToInt(RewardRequest::getItemsCount).sum() >= 64,
        "items scored: " + requests.size() + " requests");
    Map<String, MetricResult> metrics = eval(job);
    assertTrue(metrics.keySet().containsAll(List.of("reward", "win_rate")), "" + metrics.keySet());
    assertTrue(stack.store.stat("jobs/" + job + "/final/adapter_model.safetensors").isPresent());
  }

  /**
   * Synthetic data through the API: a Constitutional AI job and a Self-Instruct job run on the
   * trainer and leave their results as files of the tenant (result_files, under /v1/files, unseen
   * by another tenant); the generated preference file is the training file of a DPO job.
   */
  @Test
  void generationJobsWriteTenantFilesThatTrainLaterJobs() {
    String prompts = numbers(12, 6, x -> "{\"prompt\":\"Is " + x + " even or odd?\"}");
    String cai =
        create(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + upload("cai-prompts.jsonl", prompts)
                + "\", \"method\": {\"type\": \"constitutional_ai\", \"constitutional_ai\":"
                + " {\"hyperparameters\": {\"batch_size\": 4, \"max_new_tokens\": 8}}}}");
    io.restassured.path.json.JsonPath view = awaitEnded(cai);
    List<String> files = view.getList("result_files");
    assertEquals(2, files.size(), "SFT and preference files: " + view.prettify());
    assertTrue(view.get("fine_tuned_model") == null, "a generation job trains no model");
    List<String> listed = api().get("/v1/files").jsonPath().getList("data.id");
    assertTrue(listed.containsAll(files), listed + " holds " + files);
    String preference =
        files.stream()
            .filter(
                id ->
                    api()
                        .get("/v1/files/" + id)
                        .jsonPath()
                        .getString("filename")
                        .endsWith("constitutional_ai.preference.jsonl"))
            .findFirst()
            .orElseThrow();
    String pairs = api().get("/v1/files/" + preference + "/content").asString();
    assertTrue(pairs.contains("\"constitutional_ai\""), pairs);
    stack.globex().get("/v1/files/" + preference).then().statusCode(404);
    String dpo =
        create(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + preference
                + "\", \"adapter\": {\"type\": \"lora\", \"r\": 8}, \"method\": {\"type\":"
                + " \"dpo\", \"dpo\": {\"hyperparameters\": {\"max_steps\": 2, \"batch_size\":"
                + " 4}}}}");
    awaitSucceeded(dpo);

    String seeds =
        numbers(
            6,
            7,
            x ->
                "{\"instruction\":\"Say whether "
                    + x
                    + " is even or odd.\",\"input\":\"\",\"output\":\""
                    + (x % 2 == 0 ? "even" : "odd")
                    + "\"}");
    String selfInstruct =
        create(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + upload("seeds.jsonl", seeds)
                + "\", \"method\": {\"type\": \"self_instruct\", \"self_instruct\":"
                + " {\"hyperparameters\": {\"max_rounds\": 2, \"max_new_tokens\": 16}}}}");
    List<String> tasks = awaitEnded(selfInstruct).getList("result_files");
    assertEquals(1, tasks.size());
    assertEquals(
        selfInstruct + "-self_instruct.jsonl",
        api().get("/v1/files/" + tasks.get(0)).jsonPath().getString("filename"));
  }

  /**
   * A LoRA job of method {@code type} on 64 prompt-only records (drawn with {@code seed}), judged
   * by the judge reward model: 4 steps of 8 prompts, logged each step, with {@code settings} of its
   * own; returns its id once it succeeded.
   */
  static String promptOnlyJob(long seed, String type, String settings) {
    String prompts = numbers(64, seed, x -> "{\"prompt\":\"Is " + x + " even or odd?\"}");
    String job =
        create(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + upload(type + "-prompts.jsonl", prompts)
                + "\", \"adapter\": {\"type\": \"lora\", \"r\": 8}, \"method\": {\"type\": \""
                + type
                + "\", \""
                + type
                + "\": {\"hyperparameters\": {\"reward_model\": \"judge\", \"max_steps\": 4,"
                + " \"batch_size\": 8, \"logging_steps\": 1, "
                + settings
                + "}}}}");
    awaitSucceeded(job);
    return job;
  }

  /** The reward requests {@code job} sent to reward-service. */
  static List<RewardRequest> requestsOf(String job) {
    return stack
        .topics
        .readAll(
            dev.tuneforge.proto.Topics.REWARD_REQUESTS,
            r ->
                dev.tuneforge.testing.TestKafka.is(
                    r, RewardRequest.class, q -> job.equals(q.getJobId())))
        .stream()
        .map(r -> dev.tuneforge.proto.EventCodec.parse(r.value(), RewardRequest.class))
        .toList();
  }

  static double scored(String replica) {
    return given()
        .port(stack.ports.get(replica))
        .get("/q/metrics")
        .asString()
        .lines()
        .filter(l -> l.startsWith("tuneforge_reward_scores_total{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  @Test
  void twoReplicasShareTheRequestsAndNoneIsLostWhenOneIsKilled() throws Exception {
    double beforeA = scored("reward-service-a");
    double beforeB = scored("reward-service-b");
    String run = UUID.randomUUID().toString().substring(0, 8);
    Set<String> sent = new HashSet<>();
    for (int i = 0; i < 240; i++) {
      String id = "scale-" + run + "-" + i;
      sent.add(id);
      stack.topics.publish(
          RewardRequest.newBuilder()
              .setCorrelationId(id)
              .setRewardModel(JUDGE)
              .setReplyTo("e2e")
              .addItems(RewardItem.newBuilder().setPrompt("Is " + i + " even?").setResponse(" yes"))
              .addItems(RewardItem.newBuilder().setPrompt("Is " + i + " odd?").setResponse(" no"))
              .build());
      if (i == 80) {
        // Both replicas have been taking work; then one dies mid-stream.
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> scored("reward-service-a") > beforeA && scored("reward-service-b") > beforeB);
        stack.kill("reward-service-b");
      }
      Thread.sleep(10);
    }
    List<RewardScores> replies =
        stack.topics.awaitEvents(
            RewardScores.class, sent.size(), r -> r.getCorrelationId().startsWith("scale-" + run));
    Set<String> answered = new HashSet<>();
    for (RewardScores reply : replies) {
      assertTrue(reply.getError().isEmpty(), reply.getError());
      assertEquals(2, reply.getScoresCount());
      answered.add(reply.getCorrelationId());
    }
    // awaitEvents stops at the count; duplicates (redelivered after the kill) may fill it early.
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              stack
                  .topics
                  .readAll(
                      dev.tuneforge.proto.Topics.REWARD_SCORES,
                      r ->
                          dev.tuneforge.testing.TestKafka.is(
                              r,
                              RewardScores.class,
                              s -> s.getCorrelationId().startsWith("scale-" + run)))
                  .forEach(
                      r ->
                          answered.add(
                              dev.tuneforge.proto.EventCodec.parse(r.value(), RewardScores.class)
                                  .getCorrelationId()));
              return answered.containsAll(sent);
            });
    assertEquals(sent, answered, "every request answered");
    stack.start("reward-service-b");
  }
}
