package dev.tuneforge.llm.recipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter;
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
  void fp16AdaLoraLearnsAndPrunesItsFloat16WeightsToTheBudget() {
    var adapter = AdaLoraAdapter.create(SftLearningTest.ADALORA, 3);
    try (LlamaModel model = LlamaModel.load(dir, FLOAT16, adapter.projections(Projections.DENSE))) {
      List<Double> norms = new ArrayList<>();
      new SftRecipe(
              model,
              adapter.parameters(),
              SftSettings.forSteps(800, 32, SftLearningTest.ADALORA_LR, 5))
          .withFp16(true)
          .withAdapterTraining(AdapterTraining.of(adapter))
          .train(ReverseTask.examples(TASK.train), List.of(), p -> norms.add(p.gradNorm()));
      double exactMatch = ReverseTask.exactMatch(model, TASK.heldOut);
      long kept = 0;
      for (Map.Entry<String, List<Boolean>> module : adapter.rankPattern().entrySet()) {
        NDArray e = adapter.parameters().get(module.getKey());
        assertEquals(DataType.FLOAT16, e.getDataType(), module.getKey());
        float[] values = e.toFloatArray();
        for (int i = 0; i < values.length; i++) {
          if (module.getValue().get(i)) {
            kept++;
          } else {
            assertEquals(0f, values[i], module.getKey() + " pruned rank " + i + " in float16");
          }
        }
      }
      System.out.printf(
          "fp16 AdaLoRA: held-out exact match %.3f, ranks kept %d of %d, steps skipped %d%n",
          exactMatch, kept, 12 * 14, norms.stream().filter(n -> n.isNaN()).count());
      assertTrue(exactMatch >= 0.9, "held-out exact match " + exactMatch);
      assertEquals(14, adapter.rankPattern().size(), "2 layers x 7 projections");
      assertEquals(6 * 14, kept, "the final pattern holds the target budget");
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
