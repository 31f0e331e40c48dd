package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The LoRA invariants of ../shared/STYLE.md, on a tiny random model. */
class LoraInvariantsTest {
  @TempDir static Path dir;
  static final long[] IDS = {268, 72, 101, 108, 108, 111, 262, 32, 119, 267};

  @BeforeAll
  static void writeBase() {
    TinyLlama.write(dir, 4, TinyLlama.Size.DEFAULT);
  }

  static float[] logits(LlamaModel model) {
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray ids = scope.create(IDS, new Shape(1, IDS.length));
      return model.forward(ids, null, null).toFloatArray();
    }
  }

  static LlamaModel withAdapter(LoraAdapter adapter) {
    return LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
  }

  /** Gives B random values so the adapter changes the output. */
  static void randomizeB(LoraAdapter adapter) {
    adapter
        .parameters()
        .forEach(
            (name, tensor) -> {
              if (name.endsWith("lora_B.weight")) {
                tensor.getManager().getEngine().setRandomSeed(name.hashCode());
                NDArray noise =
                    tensor
                        .getManager()
                        .randomNormal(0, 0.05f, tensor.getShape(), tensor.getDataType());
                dev.tuneforge.llm.engine.Autograd.withGrad(false, () -> tensor.addi(noise));
              }
            });
  }

  @Test
  void zeroBAdapterEqualsTheBaseAndDisabledEqualsTheBase() {
    float[] base;
    try (LlamaModel plain = LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE)) {
      base = logits(plain);
    }
    LoraAdapter adapter = LoraAdapter.create(LoraSettings.defaults(), 1);
    try (LlamaModel model = withAdapter(adapter)) {
      assertArrayEquals(base, logits(model), 0f, "B = 0 at step 0");
      randomizeB(adapter);
      float[] adapted = logits(model);
      assertFalse(java.util.Arrays.equals(base, adapted), "a non-zero B changes the output");
      adapter.setEnabled(false);
      assertArrayEquals(base, logits(model), 0f, "disabled equals the base");
    }
  }

  @Test
  void doraAtInitialisationEqualsTheBase() {
    float[] base;
    try (LlamaModel plain = LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE)) {
      base = logits(plain);
    }
    LoraAdapter dora =
        LoraAdapter.create(
            new LoraSettings(8, 16, 0.0, LoraSettings.ALL_LINEAR, false, "none", true), 1);
    try (LlamaModel model = withAdapter(dora)) {
      assertEquals(
          2 * 7 * 3, dora.parameters().size(), "A, B and magnitude of 7 projections in 2 layers");
      float[] adapted = logits(model);
      for (int i = 0; i < base.length; i++) {
        assertEquals(base[i], adapted[i], 1e-5, "logit " + i);
      }
    }
  }

  @Test
  void mergedEqualsUnmergedAndUnmergeRestoresTheBase() {
    LoraAdapter adapter = LoraAdapter.create(LoraSettings.defaults(), 2);
    try (LlamaModel model = withAdapter(adapter)) {
      randomizeB(adapter);
      float[] unmerged = logits(model);
      String q = "model.layers.0.self_attn.q_proj.weight";
      float[] baseWeight = model.weights().get(q).toFloatArray();
      adapter.merge();
      float[] merged = logits(model);
      for (int i = 0; i < merged.length; i++) {
        assertEquals(unmerged[i], merged[i], 1e-5, "logit " + i);
      }
      adapter.unmerge();
      assertArrayEquals(baseWeight, model.weights().get(q).toFloatArray(), 1e-6f);
      assertArrayEquals(unmerged, logits(model), 1e-5f);
    }
  }

  @Test
  void afterAStepOnlyAdapterWeightsChanged() {
    LoraAdapter adapter = LoraAdapter.create(LoraSettings.defaults(), 3);
    try (LlamaModel model = withAdapter(adapter)) {
      Map<String, float[]> before = new HashMap<>();
      model.weights().forEach((name, tensor) -> before.put(name, tensor.toFloatArray()));
      Map<String, float[]> adapterBefore = new HashMap<>();
      adapter
          .parameters()
          .forEach((name, tensor) -> adapterBefore.put(name, tensor.toFloatArray()));

      TokenizedExample example =
          TokenizedExample.completion(new int[] {268, 65, 66}, new int[] {67, 269});
      // constant schedule: with warm-up the first step's rate would be 0, as in transformers
      SftSettings oneStep = new SftSettings(1e-2, 1, 1, 1, 0, 1.0, "constant", 0, 0, 0.0, 1, 0, 1);
      new SftRecipe(model, adapter.parameters(), oneStep)
          .train(List.of(example), List.of(), StepListener.NONE);

      model
          .weights()
          .forEach(
              (name, tensor) ->
                  assertArrayEquals(before.get(name), tensor.toFloatArray(), 0f, name));
      long changed =
          adapter.parameters().entrySet().stream()
              .filter(
                  e ->
                      !java.util.Arrays.equals(
                          adapterBefore.get(e.getKey()), e.getValue().toFloatArray()))
              .count();
      // B moves from zero everywhere; A moves only through B, which is zero at this first step.
      long bs =
          adapter.parameters().keySet().stream().filter(n -> n.endsWith("lora_B.weight")).count();
      assertEquals(bs, changed, "every B and no A changed at the first step");
      assertTrue(bs == 14, "two layers x seven projections adapted, was " + bs);
    }
  }

  @Test
  void peftAdapterRoundTripsThroughItsDirectory(@TempDir Path out) throws Exception {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(8, 16, 0.05, List.of("q_proj", "v_proj"), false), 5);
    float[] expected;
    try (LlamaModel model = withAdapter(adapter)) {
      randomizeB(adapter);
      expected = logits(model);
      adapter.save(out, "tiny-llama");
    }
    String config = java.nio.file.Files.readString(out.resolve(PeftLora.CONFIG_FILE));
    assertTrue(config.contains("\"peft_type\": \"LORA\""), config);
    var header =
        dev.tuneforge.llm.checkpoint.Safetensors.readHeader(out.resolve(PeftLora.WEIGHTS_FILE));
    assertTrue(
        header
            .tensors()
            .containsKey("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
    assertEquals(2 * 2 * 2, header.tensors().size(), "A and B of q and v in two layers");

    try (NDManager staging = dev.tuneforge.llm.engine.Torch.engine().newBaseManager()) {
      LoraAdapter loaded = PeftLora.load(out, staging);
      try (LlamaModel model = withAdapter(loaded)) {
        assertArrayEquals(expected, logits(model), 1e-6f);
      }
    }
  }
}
