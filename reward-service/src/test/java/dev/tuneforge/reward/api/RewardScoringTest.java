package dev.tuneforge.reward.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.v1.RewardItem;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.RewardScores;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A reward model saved in Hugging Face sequence-classification layout is served from the bucket:
 * HTTP and Kafka request/reply give the scores llm-core computes for the same pairs.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
@org.junit.jupiter.api.extension.ExtendWith(dev.tuneforge.testing.ServiceCredential.class)
class RewardScoringTest {
  /** reward-service is internal: a request without the service credential is answered 401. */
  @Test
  void withoutTheServiceCredentialNothingIsScored() {
    given()
        .header(dev.tuneforge.testing.ServiceCredential.WITHOUT, "1")
        .contentType(ContentType.JSON)
        .body("{\"model\": \"any\", \"items\": []}")
        .post("/v1/rewards")
        .then()
        .statusCode(401)
        .body("error.code", equalTo("invalid_service_token"));
  }

  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;
  static Path saved;

  @BeforeEach
  void seed() throws Exception {
    store.ensureBucket();
    if (saved != null) {
      return;
    }
    Path base = Files.createTempDirectory("rm-base");
    TinyLlama.write(base, 4, TinyLlama.Size.DEFAULT);
    saved = Files.createTempDirectory("rm");
    try (LlamaModel backbone = LlamaModel.load(base, Compute.CPU_FLOAT32, Projections.DENSE);
        RewardModel model = RewardModel.fromCausalLm(backbone, 2)) {
      model.save(saved, base);
    }
    upload(saved, "models/tiny-rm/");
    // A prefix-tuning reward model: a PEFT sequence-classification adapter over models/rm-base/.
    Path rmBase = Files.createTempDirectory("rm-bases").resolve("rm-base");
    TinyLlama.write(rmBase, 5, TinyLlama.Size.DEFAULT);
    upload(rmBase, "models/rm-base/");
    adapterBase = rmBase;
    adapterSaved = Files.createTempDirectory("rm-prefix");
    var adapter =
        dev.tuneforge.llm.adapter.prefix.PrefixTuningAdapter.create(
            new dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings(3, false, 0), 6);
    try (LlamaModel backbone =
            LlamaModel.load(rmBase, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
        RewardModel model = RewardModel.fromCausalLm(backbone, 2)) {
      dev.tuneforge.llm.preference.RewardAdapter.save(
          model, adapter, adapterSaved, rmBase.toString(), rmBase);
    }
    upload(adapterSaved, "models/tiny-rm-prefix/");
  }

  static Path adapterBase;
  static Path adapterSaved;

  private void upload(Path dir, String prefix) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.toList()) {
        store.put(
            prefix + file.getFileName(), Files.readAllBytes(file), "application/octet-stream");
      }
    }
  }

  /**
   * A reward model saved as a PEFT sequence-classification adapter (prefix tuning, which does not
   * merge) is served over the base its config names, copied from models/rm-base/.
   */
  @Test
  void aSequenceClassificationAdapterIsServedOverItsBase() {
    float reward =
        given()
            .contentType(ContentType.JSON)
            .body(
                "{\"model\": \"tiny-rm-prefix\", \"items\": [{\"prompt\": \"Hello\","
                    + " \"response\": \" the world\"}]}")
            .post("/v1/rewards")
            .then()
            .statusCode(200)
            .extract()
            .path("rewards[0]");
    try (dev.tuneforge.llm.rl.RewardScorer scorer =
        dev.tuneforge.llm.rl.RewardScorer.load(adapterSaved, name -> adapterBase)) {
      assertEquals(scorer.score(List.of("Hello"), List.of(" the world"))[0], reward, 1e-4);
    }
  }

  /** What llm-core gives for the same pair, tokenized as the service does. */
  static double expected(String prompt, String response) {
    try (RewardModel model = RewardModel.load(saved, Compute.CPU_FLOAT32, Projections.DENSE);
        Tokenizer tokenizer = Tokenizer.load(saved)) {
      int[] r = tokenizer.encodePlain(response);
      int[] withEos = java.util.Arrays.copyOf(r, r.length + 1);
      withEos[r.length] = tokenizer.special().eosId();
      return model.score(List.of(tokenizer.encode(prompt)), List.of(withEos), 1)[0];
    }
  }

  @Test
  void httpScoresMatchLlmCore() {
    List<Float> rewards =
        given()
            .contentType(ContentType.JSON)
            .body(
                "{\"model\": \"tiny-rm\", \"items\": [{\"prompt\": \"Hello\", \"response\": \" the world\"},"
                    + " {\"prompt\": \"Hi\", \"response\": \" there\"}]}")
            .post("/v1/rewards")
            .then()
            .statusCode(200)
            .body("model", equalTo("tiny-rm"))
            .body("rewards", hasSize(2))
            .extract()
            .path("rewards");
    assertEquals(expected("Hello", " the world"), rewards.get(0), 1e-4);
    assertEquals(expected("Hi", " there"), rewards.get(1), 1e-4);
    given()
        .contentType(ContentType.JSON)
        .body("{\"query\": [\"Hello the world\", \"another text\", \"x\"]}")
        .post("/get_reward")
        .then()
        .statusCode(200)
        .body("rewards", hasSize(3));
    given()
        .contentType(ContentType.JSON)
        .body("{\"model\": \"nope\", \"items\": [{\"prompt\": \"a\", \"response\": \"b\"}]}")
        .post("/v1/rewards")
        .then()
        .statusCode(404)
        .body("error.param", equalTo("model"));
  }

  @Test
  void kafkaRequestReplyScoresWithTheServedModel() {
    String correlation = "corr-" + UUID.randomUUID();
    kafka.publish(
        RewardRequest.newBuilder()
            .setCorrelationId(correlation)
            .setRewardModel("tiny-rm")
            .addItems(RewardItem.newBuilder().setPrompt("Hello").setResponse(" the world"))
            // a policy that ended at once answered nothing: scored, not dead-lettered
            .addItems(RewardItem.newBuilder().setPrompt("Hello"))
            .setReplyTo("test")
            .build());
    RewardScores reply =
        kafka
            .awaitEvents(RewardScores.class, 1, r -> correlation.equals(r.getCorrelationId()))
            .get(0);
    assertTrue(reply.getError().isEmpty(), reply.getError());
    assertEquals(expected("Hello", " the world"), reply.getScores(0), 1e-4);
    assertEquals(expected("Hello", ""), reply.getScores(1), 1e-4);
  }

  /**
   * Requests arriving together, over HTTP and Kafka, are scored in shared forward batches, and each
   * still gets exactly its own scores; the batching and latency figures are exported.
   */
  @Test
  void concurrentRequestsShareForwardBatchesAndKeepTheirOwnScores() throws Exception {
    double hello = expected("Hello", " the world");
    double hi = expected("Hi", " there, friend");
    List<String> correlations = new java.util.ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String correlation = "batch-" + i + "-" + UUID.randomUUID();
      correlations.add(correlation);
      kafka.publish(
          RewardRequest.newBuilder()
              .setCorrelationId(correlation)
              .setRewardModel("tiny-rm")
              .addItems(
                  i % 2 == 0
                      ? RewardItem.newBuilder().setPrompt("Hello").setResponse(" the world")
                      : RewardItem.newBuilder().setPrompt("Hi").setResponse(" there, friend"))
              .setReplyTo("test")
              .build());
    }
    java.util.concurrent.ExecutorService clients =
        java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<Float>> http = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        http.add(
            clients.submit(
                () ->
                    given()
                        .contentType(ContentType.JSON)
                        .body(
                            "{\"items\": [{\"prompt\": \"Hi\", \"response\": \" there,"
                                + " friend\"}]}")
                        .post("/v1/rewards")
                        .then()
                        .statusCode(200)
                        .extract()
                        .<Float>path("rewards[0]")));
      }
      for (var score : http) {
        assertEquals(hi, score.get(), 1e-4);
      }
    } finally {
      clients.shutdown();
    }
    List<RewardScores> replies =
        kafka.awaitEvents(RewardScores.class, 12, r -> correlations.contains(r.getCorrelationId()));
    for (RewardScores reply : replies) {
      int i = correlations.indexOf(reply.getCorrelationId());
      assertEquals(i % 2 == 0 ? hello : hi, reply.getScores(0), 1e-4, reply.getCorrelationId());
    }
    String scrape = given().get("/q/metrics").asString();
    double joined =
        scrape
            .lines()
            .filter(l -> l.startsWith("tuneforge_reward_requests_per_batch_max"))
            .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
            .max()
            .orElse(0);
    assertTrue(joined > 1, "requests were joined into one batch: " + joined);
    assertTrue(scrape.contains("tuneforge_reward_latency_seconds_bucket"), "latency histogram");
    assertTrue(scrape.contains("tuneforge_reward_scores_total{model=\"tiny-rm\"}"), "scores");
    assertTrue(scrape.contains("tuneforge_reward_batch_size_count"), "batch sizes");
    assertTrue(scrape.contains("kafka_consumer_fetch_manager_records_lag"), "consumer lag");
  }
}
