package dev.tuneforge.llm.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.BaseNDManager;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.Nf4Linear;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native memory is lexical: after the first steps (optimizer moments created), the number of arrays
 * the model's manager tree holds stays flat however many steps run. A temporary attached to a
 * long-lived manager would grow it by a few arrays every step (it did, in AdamW, before).
 */
class NativeMemoryTest {
  @TempDir Path dir;

  private static int managedArrays(LlamaModel model) {
    return ((BaseNDManager) model.manager()).getManagedArrays().size();
  }

  private void assertFlat(
      LlamaModel model, java.util.Map<String, ai.djl.ndarray.NDArray> trainable) {
    ReverseTask task = new ReverseTask(200, 10, 3, 1);
    List<Integer> counts = new ArrayList<>();
    new SftRecipe(
            model,
            trainable,
            new SftSettings(1e-3, 8, 2, 12, 0, 1.0, "linear", 0.1, 0, 0.01, 1, 0, 1))
        .train(ReverseTask.examples(task.train), List.of(), p -> counts.add(managedArrays(model)));
    assertEquals(
        counts.get(2),
        counts.get(counts.size() - 1),
        "arrays held after step 3 vs step 12: " + counts);
  }

  @Test
  void fullFineTuningHoldsAFlatNumberOfArrays() {
    TinyLlama.write(dir, 1, TinyLlama.Size.DEFAULT);
    try (LlamaModel model = LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE)) {
      assertFlat(model, model.weights());
    }
  }

  @Test
  void doraHoldsAFlatNumberOfArrays() {
    TinyLlama.write(dir, 1, TinyLlama.Size.DEFAULT);
    LoraAdapter adapter =
        LoraAdapter.create(
            new LoraSettings(8, 16, 0.1, LoraSettings.ALL_LINEAR, false, "none", true), 1);
    adapter.setTraining(true);
    try (LlamaModel model =
        LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      assertFlat(model, adapter.parameters());
    }
  }

  @Test
  void qloraHoldsAFlatNumberOfArrays() {
    TinyLlama.write(dir, 1, TinyLlama.Size.DEFAULT);
    LoraAdapter adapter = LoraAdapter.create(LoraSettings.defaults(), 1);
    adapter.setTraining(true);
    try (LlamaModel model =
        LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(Nf4Linear.projections(64)))) {
      assertFlat(model, adapter.parameters());
    }
  }

  @Test
  void qloraWithDoubleQuantizationHoldsAFlatNumberOfArrays() {
    TinyLlama.write(dir, 1, TinyLlama.Size.DEFAULT);
    LoraAdapter adapter = LoraAdapter.create(LoraSettings.defaults(), 1);
    adapter.setTraining(true);
    try (LlamaModel model =
        LlamaModel.load(
            dir,
            Compute.CPU_FLOAT32,
            adapter.projections(
                Nf4Linear.projections(64, true, ai.djl.ndarray.types.DataType.FLOAT16)))) {
      assertFlat(model, adapter.parameters());
    }
  }
}
