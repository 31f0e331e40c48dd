package dev.tuneforge.reward.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
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
class RewardScoringTest {
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
    try (LlamaModel backbone =
            LlamaModel.load(base, Compute.CPU_FLOAT32, LlamaModel.Projections.DENSE);
        RewardModel model = RewardModel.fromCausalLm(backbone, 2)) {
      model.save(saved, base);
    }
    try (Stream<Path> files = Files.list(saved)) {
      for (Path file : files.toList()) {
        store.put(
            "models/tiny-rm/" + file.getFileName(),
            Files.readAllBytes(file),
            "application/octet-stream");
      }
    }
  }

  /** What llm-core gives for the same pair, tokenized as the service does. */
  static double expected(String prompt, String response) {
    try (RewardModel model =
            RewardModel.load(saved, Compute.CPU_FLOAT32, LlamaModel.Projections.DENSE);
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
            .setReplyTo("test")
            .build());
    RewardScores reply =
        kafka
            .awaitEvents(RewardScores.class, 1, r -> correlation.equals(r.getCorrelationId()))
            .get(0);
    assertTrue(reply.getError().isEmpty(), reply.getError());
    assertEquals(expected("Hello", " the world"), reply.getScores(0), 1e-4);
  }
}
