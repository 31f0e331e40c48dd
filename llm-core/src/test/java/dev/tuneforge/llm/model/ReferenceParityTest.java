package dev.tuneforge.llm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.PeftLora;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Log-probabilities match an independent PyTorch implementation of Hugging Face's Llama
 * (tools/reference/llama_reference.py, PyTorch 1.13, float32) to 1e-4. The reference scores each
 * sequence alone; here they are scored as one padded batch.
 */
class ReferenceParityTest {
  static final double TOLERANCE = 1e-4;
  static final Path REFERENCE = Path.of("src/test/resources/reference");

  @ParameterizedTest
  @ValueSource(
      strings = {
        "gqa",
        "mha-untied",
        "attention-and-mlp-bias",
        "qwen2",
        "bf16-weights",
        "f16-weights",
        "sharded",
        "llama3-rope",
        "linear-rope-head-dim",
        "qwen3",
        "mistral-sliding-window",
        "phi3",
        "gemma2",
        "gemma3"
      })
  void logProbsMatchThePyTorchReference(String name) throws Exception {
    try (LlamaModel model = LlamaModel.load(REFERENCE.resolve(name), DataType.FLOAT32)) {
      compare(name, model, REFERENCE.resolve(name), TOLERANCE);
    }
  }

  /**
   * float16 compute (a GPU setting, also runnable on CPU) stays near the float32 reference: half
   * precision keeps about 3 significant digits, so log-probs around -20 may move by ~1e-2.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gqa", "attention-and-mlp-bias", "llama3-rope"})
  void float16ComputeStaysNearTheReference(String name) throws Exception {
    try (LlamaModel model = LlamaModel.load(REFERENCE.resolve(name), DataType.FLOAT16)) {
      compare(name + " float16", model, REFERENCE.resolve(name), 0.1);
    }
  }

  /** A PEFT LoRA adapter written by the reference (all seven projections) applied by TuneForge. */
  @Test
  void peftAdapterFromTheReferenceGivesItsLogProbs() throws Exception {
    try (NDManager staging = Torch.engine().newBaseManager()) {
      LoraAdapter adapter = PeftLora.load(REFERENCE.resolve("gqa-lora-adapter"), staging);
      Projections projections = adapter.projections(Projections.DENSE);
      try (LlamaModel model =
          LlamaModel.load(REFERENCE.resolve("gqa"), Compute.CPU_FLOAT32, projections)) {
        compare("gqa + PEFT LoRA", model, REFERENCE.resolve("gqa-lora-adapter"), TOLERANCE);
      }
    }
  }

  /**
   * Adapters that choose modules by PEFT's finer rules (tools/reference/peft_patterns_reference.py,
   * where peft's own matching functions decide): a regular-expression target_modules with
   * rank_pattern and alpha_pattern, and layers_to_transform with layers_pattern and
   * exclude_modules. The same modules are adapted with the same ranks, and the log-probs match.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gqa-pattern-adapter", "gqa-layers-adapter", "gqa-lora-bias-adapter"})
  void peftSelectionRulesAdaptTheModulesPeftAdapts(String name) throws Exception {
    Path dir = REFERENCE.resolve(name);
    JsonObject expected = expected(dir);
    try (NDManager staging = Torch.engine().newBaseManager()) {
      LoraAdapter adapter = PeftLora.load(dir, staging);
      java.util.Map<String, Integer> ranks = new java.util.TreeMap<>();
      for (var entry : expected.getAsJsonArray("adapted")) {
        ranks.put(
            entry.getAsJsonArray().get(0).getAsString(), entry.getAsJsonArray().get(1).getAsInt());
      }
      java.util.Map<String, Integer> ours = new java.util.TreeMap<>();
      for (int layer = 0; layer < 2; layer++) {
        for (String module :
            List.of(
                WeightNames.Q_PROJ,
                WeightNames.K_PROJ,
                WeightNames.V_PROJ,
                WeightNames.O_PROJ,
                WeightNames.GATE_PROJ,
                WeightNames.UP_PROJ,
                WeightNames.DOWN_PROJ)) {
          if (adapter.settings().targets(layer, module)) {
            ours.put(WeightNames.layer(layer) + module, adapter.settings().rank(layer, module));
          }
        }
      }
      assertEquals(ranks, ours, "adapted modules and their ranks");
      Projections projections = adapter.projections(Projections.DENSE);
      try (LlamaModel model =
          LlamaModel.load(REFERENCE.resolve("gqa"), Compute.CPU_FLOAT32, projections)) {
        compare("gqa + " + name, model, dir, TOLERANCE);
        if (name.equals("gqa-lora-bias-adapter")) {
          // gqa's projections have no bias for lora_bias to fold into: refused, nothing written
          IllegalStateException refused = assertThrows(IllegalStateException.class, adapter::merge);
          assertTrue(refused.getMessage().contains("lora_bias into a projection without a bias"));
          compare("gqa + " + name + " after the refused merge", model, dir, TOLERANCE);
        }
      }
    }
  }

  /**
   * A PEFT LoRA adapter on Phi-3's fused qkv_proj and gate_up_proj (and o_proj, down_proj), as peft
   * adapts a Phi-3 model, applied by TuneForge; then merged into the fused weights.
   */
  @Test
  void peftAdapterOnPhi3FusedProjectionsGivesItsLogProbs() throws Exception {
    try (NDManager staging = Torch.engine().newBaseManager()) {
      LoraAdapter adapter = PeftLora.load(REFERENCE.resolve("phi3-lora-adapter"), staging);
      Projections projections = adapter.projections(Projections.DENSE);
      try (LlamaModel model =
          LlamaModel.load(REFERENCE.resolve("phi3"), Compute.CPU_FLOAT32, projections)) {
        assertEquals(2 * 4 * 2, adapter.parameters().size(), "A and B of four modules, two layers");
        compare("phi3 + PEFT LoRA", model, REFERENCE.resolve("phi3-lora-adapter"), TOLERANCE);
        adapter.merge();
        compare(
            "phi3 + PEFT LoRA, merged", model, REFERENCE.resolve("phi3-lora-adapter"), TOLERANCE);
      }
    }
  }

  /**
   * PEFT adapters written by the reference, applied by TuneForge and then merged: DoRA (magnitude
   * vectors) on the gqa model, and LoRA on all seven projections of the Gemma 2 model (soft-capped,
   * sliding on alternate layers).
   */
  @ParameterizedTest
  @CsvSource({"gqa-dora-adapter, gqa", "gemma2-lora-adapter, gemma2"})
  void peftAdaptersGiveTheirLogProbsAppliedAndMerged(String adapterName, String base)
      throws Exception {
    Path dir = REFERENCE.resolve(adapterName);
    try (NDManager staging = Torch.engine().newBaseManager()) {
      LoraAdapter adapter = PeftLora.load(dir, staging);
      Projections projections = adapter.projections(Projections.DENSE);
      try (LlamaModel model =
          LlamaModel.load(REFERENCE.resolve(base), Compute.CPU_FLOAT32, projections)) {
        compare(base + " + " + adapterName, model, dir, TOLERANCE);
        adapter.merge();
        compare(base + " + " + adapterName + ", merged", model, dir, TOLERANCE);
      }
    }
  }

  /**
   * Decoding token by token through the KV cache keeps the sliding window (Mistral's on every
   * layer, Gemma's on its sliding layers only, with Gemma 3's local RoPE base there): once more
   * keys are cached than the window holds, the oldest are masked, and every next-token
   * log-probability still equals the reference's.
   */
  @ParameterizedTest
  @ValueSource(strings = {"mistral-sliding-window", "gemma2", "gemma3"})
  void cachedDecodingKeepsTheSlidingWindow(String name) throws Exception {
    Path dir = REFERENCE.resolve(name);
    JsonObject expected = expected(dir);
    JsonArray ids = expected.getAsJsonArray("sequences").get(0).getAsJsonArray();
    JsonArray reference = expected.getAsJsonArray("logprobs").get(0).getAsJsonArray();
    try (LlamaModel model = LlamaModel.load(dir, DataType.FLOAT32);
        NDManager scope = model.manager().newSubManager();
        KvCache cache = new KvCache(scope, model.numLayers())) {
      assertTrue(model.config().slidingWindow() < ids.size() / 2, "the window is exceeded");
      double worst = 0;
      for (int t = 0; t + 1 < ids.size(); t++) {
        ai.djl.ndarray.NDArray token =
            scope.create(new long[] {ids.get(t).getAsLong()}, new ai.djl.ndarray.types.Shape(1, 1));
        float[] logits = model.forward(token, null, cache).toFloatArray();
        double logprob = logProb(logits, 0, logits.length, ids.get(t + 1).getAsInt());
        worst = Math.max(worst, Math.abs(reference.get(t + 1).getAsDouble() - logprob));
      }
      assertTrue(worst <= TOLERANCE, "cached decoding: max abs error " + worst);
    }
  }

  /**
   * Both reference sequences packed in one row (segments 1 and 2) score as the reference scores
   * each alone: positions restart per segment and the sliding layers keep their window.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gemma2", "gemma3", "mistral-sliding-window"})
  void packedRowsKeepEachLayersWindow(String name) throws Exception {
    Path dir = REFERENCE.resolve(name);
    JsonObject expected = expected(dir);
    JsonArray sequences = expected.getAsJsonArray("sequences");
    List<Long> ids = new ArrayList<>();
    List<Long> segments = new ArrayList<>();
    for (int s = 0; s < sequences.size(); s++) {
      for (var id : sequences.get(s).getAsJsonArray()) {
        ids.add(id.getAsLong());
        segments.add((long) s + 1);
      }
    }
    try (LlamaModel model = LlamaModel.load(dir, DataType.FLOAT32);
        NDManager scope = model.manager().newSubManager()) {
      ai.djl.ndarray.types.Shape shape = new ai.djl.ndarray.types.Shape(1, ids.size());
      float[] logits =
          model
              .forwardPacked(
                  scope.create(ids.stream().mapToLong(Long::longValue).toArray(), shape),
                  scope.create(segments.stream().mapToLong(Long::longValue).toArray(), shape))
              .toFloatArray();
      int vocab = model.config().vocabSize();
      double worst = 0;
      int offset = 0;
      for (int s = 0; s < sequences.size(); s++) {
        JsonArray sequence = sequences.get(s).getAsJsonArray();
        JsonArray reference = expected.getAsJsonArray("logprobs").get(s).getAsJsonArray();
        for (int t = 1; t < sequence.size(); t++) {
          double logprob =
              logProb(logits, (offset + t - 1) * vocab, vocab, sequence.get(t).getAsInt());
          worst = Math.max(worst, Math.abs(reference.get(t).getAsDouble() - logprob));
        }
        offset += sequence.size();
      }
      assertTrue(worst <= TOLERANCE, name + " packed: max abs error " + worst);
    }
  }

  private static JsonObject expected(Path dir) throws Exception {
    return JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
  }

  /** log softmax of {@code logits[row .. row + vocab)} at {@code token}. */
  private static double logProb(float[] logits, int row, int vocab, int token) {
    double max = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < vocab; v++) {
      max = Math.max(max, logits[row + v]);
    }
    double sum = 0;
    for (int v = 0; v < vocab; v++) {
      sum += Math.exp(logits[row + v] - max);
    }
    return logits[row + token] - max - Math.log(sum);
  }

  private static void compare(String name, LlamaModel model, Path dir, double tolerance) {
    double worst = dev.tuneforge.llm.eval.ReferenceLogprobs.read(dir).maxError(model);
    System.out.printf("%s: max abs error %.2e%n", name, worst);
    assertTrue(worst <= tolerance, name + ": max abs error " + worst + " > " + tolerance);
  }
}
