package dev.tuneforge.llm.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.Batch;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.loss.CausalLmLoss;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recomputing activations gives the gradients of the plain backward (up to float summation order,
 * 1e-5 relative). Compared before any optimizer step: Adam turns near-zero gradient differences
 * into +-lr updates, which would hide what is being checked.
 */
class ActivationCheckpointingTest {
  @TempDir Path dir;

  private Map<String, float[]> gradients(boolean full, boolean checkpointing) {
    return gradients(full, checkpointing, ReverseTask.examples(new ReverseTask(8, 2, 3, 2).train));
  }

  private Map<String, float[]> gradients(
      boolean full, boolean checkpointing, java.util.List<TokenizedExample> examples) {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(8, 16, 0.0, LoraSettings.ALL_LINEAR, false), 1);
    Projections projections = full ? Projections.DENSE : adapter.projections(Projections.DENSE);
    try (LlamaModel model = LlamaModel.load(dir, Compute.CPU_FLOAT32, projections);
        NDManager scope = model.manager().newSubManager()) {
      Map<String, NDArray> trainable = full ? model.weights() : adapter.parameters();
      trainable.values().forEach(p -> p.setRequiresGradient(true));
      if (!full) { // a non-zero B, so gradients reach A and the layers below
        adapter
            .parameters()
            .forEach(
                (n, t) ->
                    Autograd.withGrad(
                        false, () -> n.endsWith("lora_B.weight") ? t.addi(0.01f) : t));
      }
      Batch batch = Batch.of(examples, 0);
      NDArray ids = batch.idsArray(scope);
      NDArray mask = batch.maskArray(scope);
      NDArray labels = batch.labelsArray(scope);
      if (checkpointing) {
        ActivationCheckpointing.backward(model, ids, mask, labels, 1f, 7, scope);
      } else {
        Autograd.withGrad(
            true,
            () -> {
              Autograd.backward(
                  CausalLmLoss.crossEntropy(model.forward(ids, mask, null), labels).loss());
              return null;
            });
      }
      Map<String, float[]> gradients = new LinkedHashMap<>();
      trainable.forEach((name, p) -> gradients.put(name, p.getGradient().toFloatArray()));
      return gradients;
    }
  }

  /** Prompt tuning's virtual tokens, over a dense or a float16 frozen base. */
  private Map<String, float[]> promptGradients(boolean checkpointing, boolean halfBase) {
    return virtualGradients(
        dev.tuneforge.llm.adapter.prompt.PromptTuningAdapter.create(
            new dev.tuneforge.llm.adapter.prompt.PromptTuningSettings(5, "RANDOM", null, null),
            null,
            2),
        checkpointing,
        halfBase);
  }

  /** The gradients of an adapter's tensors over a dense or a float16 frozen base. */
  private Map<String, float[]> virtualGradients(
      dev.tuneforge.llm.adapter.Adapter adapter, boolean checkpointing, boolean halfBase) {
    Projections base =
        halfBase ? dev.tuneforge.llm.model.HalfLinear.projections() : Projections.DENSE;
    try (LlamaModel model = LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(base));
        NDManager scope = model.manager().newSubManager()) {
      Batch batch = Batch.of(ReverseTask.examples(new ReverseTask(8, 2, 3, 2).train), 0);
      NDArray ids = batch.idsArray(scope);
      NDArray mask = batch.maskArray(scope);
      NDArray labels = batch.labelsArray(scope);
      if (checkpointing) {
        ActivationCheckpointing.backward(model, ids, mask, labels, 1f, 7, scope);
      } else {
        Autograd.withGrad(
            true,
            () -> {
              Autograd.backward(
                  CausalLmLoss.crossEntropy(model.forward(ids, mask, null), labels).loss());
              return null;
            });
      }
      Map<String, float[]> gradients = new LinkedHashMap<>();
      adapter
          .parameters()
          .forEach((name, p) -> gradients.put(name, p.getGradient().toFloatArray()));
      return gradients;
    }
  }

  @Test
  void promptTuningGradientsAreUnchangedByCheckpointingAndAHalfBase() {
    TinyLlama.write(dir, 3, TinyLlama.Size.DEFAULT);
    Map<String, float[]> plain = promptGradients(false, false);
    assertClose(plain, promptGradients(true, false));
    Map<String, float[]> half = promptGradients(false, true);
    half.forEach(
        (name, values) -> {
          double scale = 0;
          double worst = 0;
          for (int i = 0; i < values.length; i++) {
            scale = Math.max(scale, Math.abs(plain.get(name)[i]));
            worst = Math.max(worst, Math.abs(values[i] - plain.get(name)[i]));
          }
          // float16 weights round to ~1e-3 relative; the gradient follows them.
          assertTrue(worst < 2e-2 * scale, name + ": " + worst + " of " + scale);
        });
  }

  @Test
  void prefixTuningGradientsAreUnchangedByCheckpointing() {
    TinyLlama.write(dir, 3, TinyLlama.Size.DEFAULT);
    for (boolean projected : new boolean[] {false, true}) {
      java.util.function.Supplier<dev.tuneforge.llm.adapter.Adapter> make =
          () ->
              dev.tuneforge.llm.adapter.prefix.PrefixTuningAdapter.create(
                  new dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings(
                      4, projected, projected ? 24 : 0),
                  3);
      Map<String, float[]> plain = virtualGradients(make.get(), false, false);
      assertClose(plain, virtualGradients(make.get(), true, false));
      assertClose(plain, virtualGradients(make.get(), false, true), 2e-2);
    }
  }

  private static void assertClose(Map<String, float[]> expected, Map<String, float[]> actual) {
    assertClose(expected, actual, 1e-5);
  }

  private static void assertClose(
      Map<String, float[]> expected, Map<String, float[]> actual, double relative) {
    expected.forEach(
        (name, values) -> {
          float[] other = actual.get(name);
          double scale = 0;
          for (float v : values) {
            scale = Math.max(scale, Math.abs(v));
          }
          assertTrue(scale > 0, name + " got a gradient");
          for (int i = 0; i < values.length; i++) {
            assertEquals(values[i], other[i], relative * scale, name + "[" + i + "]");
          }
        });
  }

  @Test
  void fullFineTuningGradientsAreUnchangedByCheckpointing() {
    TinyLlama.write(dir, 3, TinyLlama.Size.DEFAULT);
    assertClose(gradients(true, false), gradients(true, true));
  }

  @Test
  void loraGradientsAreUnchangedByCheckpointing() {
    TinyLlama.write(dir, 3, TinyLlama.Size.DEFAULT);
    assertClose(gradients(false, false), gradients(false, true));
  }

  /**
   * Gemma 3's blocks (sliding and full layers with their own RoPE bases, both masks in the shared
   * context) recompute to the same gradients, full fine-tuning and LoRA.
   */
  @Test
  void gemmaGradientsAreUnchangedByCheckpointing() throws Exception {
    Path reference = Path.of("src/test/resources/reference/gemma3");
    for (String file : new String[] {"config.json", "model.safetensors"}) {
      java.nio.file.Files.copy(reference.resolve(file), dir.resolve(file));
    }
    java.util.List<TokenizedExample> examples = new java.util.ArrayList<>();
    java.util.Random random = new java.util.Random(4);
    for (int e = 0; e < 3; e++) {
      int[] prompt = random.ints(9 + 2 * e, 3, 96).toArray();
      examples.add(TokenizedExample.completion(prompt, random.ints(4, 3, 96).toArray()));
    }
    assertClose(gradients(true, false, examples), gradients(true, true, examples));
    assertClose(gradients(false, false, examples), gradients(false, true, examples));
  }
}
