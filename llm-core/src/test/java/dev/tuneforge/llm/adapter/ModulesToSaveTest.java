package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.checkpoint.Safetensors;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.WeightNames;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * modules_to_save: a trained copy of lm_head that travels with the adapter (untied reference
 * model).
 */
class ModulesToSaveTest {
  static final Path BASE = Path.of("src/test/resources/reference/mha-untied");
  static final long[] IDS = {1, 5, 9, 13, 17, 21};
  @TempDir Path dir;

  @Test
  void lmHeadCopyTrainsSavesAndLoadsWhileTheBaseStaysIntact() {
    LoraAdapter adapter =
        LoraAdapter.create(
            new LoraSettings(
                4, 8, 0.0, List.of("q_proj"), false, "none", false, List.of("lm_head")),
            1);
    float[] expected;
    float[] base;
    try (LlamaModel model =
        LlamaModel.load(BASE, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      base = logits(model);
      float[] headBefore = model.weights().get(WeightNames.LM_HEAD).toFloatArray();
      SftSettings oneStep = new SftSettings(1e-2, 1, 1, 1, 0, 1.0, "constant", 0, 0, 0.0, 1, 0, 1);
      new SftRecipe(model, adapter.parameters(), oneStep)
          .train(
              List.of(TokenizedExample.completion(new int[] {1, 5, 9}, new int[] {13, 2})),
              List.of(),
              StepListener.NONE);
      assertArrayEquals(
          headBefore,
          model.weights().get(WeightNames.LM_HEAD).toFloatArray(),
          0f,
          "the base head is untouched");
      expected = logits(model);
      assertFalse(java.util.Arrays.equals(base, expected), "the trained head copy is used");
      adapter.setEnabled(false);
      assertArrayEquals(base, logits(model), 0f, "disabled: the base head again");
      adapter.setEnabled(true);
      adapter.save(dir, "mha-untied");
    }
    assertTrue(
        Safetensors.readHeader(dir.resolve(PeftLora.WEIGHTS_FILE))
            .tensors()
            .containsKey("base_model.model.lm_head.weight"));
    try (NDManager staging = Torch.engine().newBaseManager()) {
      LoraAdapter loaded = PeftLora.load(dir, staging);
      try (LlamaModel model =
          LlamaModel.load(BASE, Compute.CPU_FLOAT32, loaded.projections(Projections.DENSE))) {
        assertArrayEquals(expected, logits(model), 1e-6f);
      }
    }
  }

  private static float[] logits(LlamaModel model) {
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray input = scope.create(IDS, new Shape(1, IDS.length));
      return model.forward(input, null, null).toFloatArray();
    }
  }
}
