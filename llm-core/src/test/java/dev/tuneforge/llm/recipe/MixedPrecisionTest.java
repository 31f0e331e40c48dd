package dev.tuneforge.llm.recipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fp16 training: float16 weights, float32 masters, dynamic loss scaling. */
class MixedPrecisionTest {
  @TempDir static Path dir;
  static final Compute FLOAT16 = new Compute("cpu", "float16");
  static final ReverseTask TASK = new ReverseTask(1500, 200, 3, 7);

  @BeforeAll
  static void writeBase() {
    TinyLlama.write(dir, 1, new TinyLlama.Size(64, 2, 4, 2, 192));
  }

  private static LoraAdapter adapter() {
    return LoraAdapter.create(new LoraSettings(16, 32, 0.0, LoraSettings.ALL_LINEAR, false), 3);
  }

  @Test
  void fp16FullFineTuningLearnsToReverseHeldOutWords() {
    try (LlamaModel model = LlamaModel.load(dir, FLOAT16, Projections.DENSE)) {
      new SftRecipe(model, model.weights(), SftSettings.forSteps(250, 32, 3e-3, 5))
          .withFp16(true)
          .train(ReverseTask.examples(TASK.train), List.of(), StepListener.NONE);
      double exactMatch = ReverseTask.exactMatch(model, TASK.heldOut);
      System.out.printf("fp16 full fine-tuning: held-out exact match %.3f%n", exactMatch);
      assertTrue(exactMatch >= 0.9, "held-out exact match " + exactMatch);
    }
  }

  @Test
  void overflowingStepsAreSkippedAndTheScaleComesDown() {
    LoraAdapter adapter = adapter();
    try (LlamaModel model = LlamaModel.load(dir, FLOAT16, adapter.projections(Projections.DENSE))) {
      Map<String, float[]> before = new LinkedHashMap<>();
      adapter.parameters().forEach((name, tensor) -> before.put(name, tensor.toFloatArray()));
      List<Double> norms = new ArrayList<>();
      // 2^40 overflows float16 gradients; it takes ~24 halvings to come back in range
      new SftRecipe(
              model,
              adapter.parameters(),
              new SftSettings(5e-3, 8, 1, 3, 0, 1.0, "constant", 0, 0, 0.0, 1, 0, 1))
          .withFp16(Math.pow(2, 40))
          .train(ReverseTask.examples(TASK.train), List.of(), p -> norms.add(p.gradNorm()));
      assertEquals(3, norms.size());
      assertTrue(norms.stream().allMatch(n -> Double.isNaN(n)), "every step skipped: " + norms);
      adapter
          .parameters()
          .forEach(
              (name, tensor) ->
                  assertArrayEquals(before.get(name), tensor.toFloatArray(), 0f, name));
    }
  }
}
