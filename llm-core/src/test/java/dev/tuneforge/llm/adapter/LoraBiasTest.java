package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEFT's bias option on a model whose projections have biases (the reference
 * "attention-and-mlp-bias").
 */
class LoraBiasTest {
  static final Path BASE = Path.of("src/test/resources/reference/attention-and-mlp-bias");
  static final String Q_BIAS = "model.layers.0.self_attn.q_proj.bias";
  static final String K_BIAS = "model.layers.0.self_attn.k_proj.bias";
  @TempDir Path dir;

  @Test
  void loraOnlyTrainsTheBiasesOfAdaptedProjectionsAndTheyTravelWithTheAdapter() throws Exception {
    LoraAdapter adapter =
        LoraAdapter.create(
            new LoraSettings(4, 8, 0.0, List.of("q_proj", "v_proj"), false, "lora_only"), 1);
    float[] expected;
    long[] ids = {1, 5, 9, 13, 17, 21};
    try (LlamaModel model =
        LlamaModel.load(BASE, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      float[] kBefore = model.weights().get(K_BIAS).toFloatArray();
      float[] qBefore = model.weights().get(Q_BIAS).toFloatArray();
      assertEquals(
          2 * 2 * 3, adapter.parameters().size(), "A, B and bias of q and v in two layers");
      SftSettings oneStep = new SftSettings(1e-2, 1, 1, 1, 0, 1.0, "constant", 0, 0, 0.0, 1, 0, 1);
      new SftRecipe(model, adapter.parameters(), oneStep)
          .train(
              List.of(TokenizedExample.completion(new int[] {1, 5, 9}, new int[] {13, 2})),
              List.of(),
              StepListener.NONE);
      assertFalse(
          java.util.Arrays.equals(qBefore, model.weights().get(Q_BIAS).toFloatArray()),
          "q bias trained");
      assertArrayEquals(
          kBefore, model.weights().get(K_BIAS).toFloatArray(), 0f, "k bias untouched");
      expected = logits(model, ids);
      adapter.save(dir, "attention-and-mlp-bias");
    }
    try (NDManager staging = Torch.engine().newBaseManager()) {
      java.util.Set<String> keys =
          LoraAdapter.read(staging, dir.resolve(PeftLora.WEIGHTS_FILE)).keySet();
      assertTrue(
          keys.contains(
              LoraAdapter.PEFT_PREFIX + "model.layers.0.self_attn.q_proj.base_layer.bias"),
          "PEFT keeps a targeted module's bias on its base_layer: " + keys);
      assertFalse(
          keys.contains(LoraAdapter.PEFT_PREFIX + Q_BIAS), "no key peft would drop: " + keys);
      LoraAdapter loaded = PeftLora.load(dir, staging);
      assertEquals("lora_only", loaded.settings().bias());
      try (LlamaModel model =
          LlamaModel.load(BASE, Compute.CPU_FLOAT32, loaded.projections(Projections.DENSE))) {
        assertArrayEquals(expected, logits(model, ids), 1e-6f);
      }
    }
  }

  private static float[] logits(LlamaModel model, long[] ids) {
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray input = scope.create(ids, new Shape(1, ids.length));
      return model.forward(input, null, null).toFloatArray();
    }
  }

  /**
   * bias="all" trains every projection bias: a targeted one is saved as PEFT names it ({@code
   * q_proj.base_layer.bias}), an untargeted one under its own name ({@code o_proj.bias}), and an
   * adapter written before with {@code q_proj.bias} still loads.
   */
  @Test
  void biasAllSavesUnderPeftNamesAndReadsTheOldName() throws Exception {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(4, 8, 0.0, List.of("q_proj"), false, "all"), 1);
    try (LlamaModel model =
        LlamaModel.load(BASE, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      adapter.save(dir, "attention-and-mlp-bias");
    }
    try (NDManager staging = Torch.engine().newBaseManager()) {
      java.util.Map<String, NDArray> tensors =
          LoraAdapter.read(staging, dir.resolve(PeftLora.WEIGHTS_FILE));
      String layer = LoraAdapter.PEFT_PREFIX + "model.layers.0.";
      assertTrue(
          tensors.containsKey(layer + "self_attn.q_proj.base_layer.bias"),
          tensors.keySet().toString());
      assertTrue(tensors.containsKey(layer + "self_attn.o_proj.bias"), tensors.keySet().toString());
      // the name TuneForge wrote before this fix
      java.util.Map<String, NDArray> renamed = new java.util.LinkedHashMap<>();
      tensors.forEach((k, v) -> renamed.put(k.replace(".base_layer.bias", ".bias"), v));
      Path old = dir.resolve("old");
      java.nio.file.Files.createDirectories(old);
      java.nio.file.Files.copy(
          dir.resolve(PeftLora.CONFIG_FILE), old.resolve(PeftLora.CONFIG_FILE));
      dev.tuneforge.llm.checkpoint.Safetensors.write(
          old.resolve(PeftLora.WEIGHTS_FILE), renamed, LoraAdapter.metadata());
      LoraAdapter loaded = PeftLora.load(old, staging);
      try (LlamaModel model =
          LlamaModel.load(BASE, Compute.CPU_FLOAT32, loaded.projections(Projections.DENSE))) {
        assertEquals(
            2 * 2 + 2 * 7, loaded.parameters().size(), "A, B of q and 7 biases, two layers");
      }
    }
  }
}
