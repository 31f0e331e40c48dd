package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * LoRA and QLoRA train on Phi-3's fused projections: all-linear adapts qkv_proj and gate_up_proj
 * (as PEFT does), and over an NF4 base the fused weight runs outside the graph like any frozen
 * projection (engine.Tape), with one matmul shared by its q, k and v parts.
 */
class Phi3FusedTrainingTest {
  static final Path PHI3 = Path.of("src/test/resources/reference/phi3");

  @Test
  void loraAndQloraTrainTheFusedProjections() {
    for (boolean quantized : new boolean[] {false, true}) {
      LoraAdapter adapter = LoraAdapter.create(new LoraSettings(4, 8, 0.0, List.of(), false), 5);
      Projections base = quantized ? Nf4Linear.projections(64) : Projections.DENSE;
      try (LlamaModel model =
          LlamaModel.load(PHI3, Compute.CPU_FLOAT32, adapter.projections(base))) {
        String qkvB = LoraAdapter.PEFT_PREFIX + "model.layers.0.self_attn.qkv_proj.lora_B.weight";
        assertEquals(2 * 4 * 2, adapter.parameters().size(), "qkv, o, gate_up, down in two layers");
        assertTrue(
            adapter.parameters().containsKey(qkvB), adapter.parameters().keySet().toString());
        NDArray b = adapter.parameters().get(qkvB);
        float[] before = b.toFloatArray();
        SftSettings twoSteps =
            new SftSettings(1e-2, 1, 2, 1, 0, 1.0, "constant", 0, 0, 0.0, 1, 0, 1);
        new SftRecipe(model, adapter.parameters(), twoSteps)
            .train(
                List.of(TokenizedExample.completion(new int[] {1, 5, 9, 13}, new int[] {17, 2})),
                List.of(),
                StepListener.NONE);
        float[] after = adapter.parameters().get(qkvB).toFloatArray();
        assertFalse(
            java.util.Arrays.equals(before, after), "qkv_proj's B trained, quantized=" + quantized);
        for (float v : after) {
          assertTrue(Float.isFinite(v));
        }
      }
    }
  }
}
