package dev.tuneforge.llm.preference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Reward models with virtual tokens, saved as PEFT sequence-classification adapters, read both ways
 * with real peft (0.21.0 on torch 2.14.1; {@code tools/reference/peft_reward_interop.sh}): {@code
 * tuneforge-rm-<method>/} was trained by {@code ./tuneforge train} and its {@code expected.json}
 * holds the rewards peft computes after {@code PeftModel.from_pretrained} over {@code
 * AutoModelForSequenceClassification}; {@code peft-rm-<method>/} was written by peft's {@code
 * save_pretrained}. TuneForge opens each over the same base and must score as peft does.
 */
class PeftRewardInteropTest {
  static final Path DIR = Path.of("src/test/resources/reference/peft-reward-interop");
  static final Path BASE = Path.of("src/test/resources/reference/peft-interop/base");

  static Stream<String> adapters() throws Exception {
    try (Stream<Path> dirs = Files.list(DIR)) {
      return dirs.map(d -> d.getFileName().toString()).sorted().toList().stream();
    }
  }

  @Test
  void bothMethodsAreCheckedBothWays() throws Exception {
    assertEquals(
        List.of("peft-rm-prefix", "peft-rm-prompt", "tuneforge-rm-prefix", "tuneforge-rm-prompt"),
        adapters().toList());
  }

  @ParameterizedTest
  @MethodSource("adapters")
  void tuneForgeScoresAsPeftDoes(String name) throws Exception {
    Path dir = DIR.resolve(name);
    JsonObject expected =
        JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
    JsonArray sequences = expected.getAsJsonArray("sequences");
    JsonArray rewards = expected.getAsJsonArray("rewards");
    double worst = 0;
    try (RewardModel model = RewardModel.open(dir, base -> BASE, Compute.CPU_FLOAT32)) {
      for (int i = 0; i < sequences.size(); i++) {
        long[] ids =
            sequences.get(i).getAsJsonArray().asList().stream()
                .mapToLong(e -> e.getAsLong())
                .toArray();
        try (NDManager scope = model.backbone().manager().newSubManager()) {
          double reward =
              Autograd.withGrad(
                  false,
                  () -> {
                    NDArray input = scope.create(ids, new Shape(1, ids.length));
                    NDArray mask = scope.ones(new Shape(1, ids.length), DataType.INT64);
                    return (double) model.rewards(input, mask).getFloat(0);
                  });
          worst = Math.max(worst, Math.abs(reward - rewards.get(i).getAsDouble()));
        }
      }
    }
    System.out.printf("%s: largest reward difference from peft %.2e%n", name, worst);
    assertTrue(worst <= 1e-4, name + ": " + worst);
  }
}
