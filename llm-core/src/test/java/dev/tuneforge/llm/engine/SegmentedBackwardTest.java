package dev.tuneforge.llm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.Nf4;
import dev.tuneforge.llm.adapter.Nf4Linear;
import dev.tuneforge.llm.checkpoint.HfCheckpoint;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.loss.CausalLmLoss;
import dev.tuneforge.llm.loss.ChunkedCrossEntropy;
import dev.tuneforge.llm.model.HalfLinear;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The segmented backward (Tape) and the chunked loss give the gradients of one ordinary autograd
 * graph: a QLoRA model over a frozen NF4 base against LoRA over a dense base holding exactly the
 * dequantized NF4 weights, a float16 frozen base against a dense base of the same float16 values,
 * and the chunked loss against the whole-batch loss.
 */
class SegmentedBackwardTest {
  @TempDir static Path dir;
  static Path nf4Values;
  static Path halfValues;
  static final long[] IDS = {268, 72, 101, 108, 108, 111, 262, 32, 119, 267, 44, 99, 120, 7};

  @BeforeAll
  static void writeBases() throws Exception {
    Path base = dir.resolve("base");
    TinyLlama.write(base, 4, TinyLlama.Size.DEFAULT);
    nf4Values = rewrite(base, dir.resolve("nf4-values"), SegmentedBackwardTest::nf4RoundTrip);
    halfValues = rewrite(base, dir.resolve("half-values"), SegmentedBackwardTest::halfRoundTrip);
  }

  /** A copy of {@code base} whose projection weights went through {@code transform}. */
  static Path rewrite(Path base, Path out, UnaryOperator<float[]> transform) throws Exception {
    Files.createDirectories(out);
    for (String file : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
      if (Files.exists(base.resolve(file))) {
        Files.copy(base.resolve(file), out.resolve(file));
      }
    }
    try (NDManager manager = Torch.engine().newBaseManager()) {
      Map<String, NDArray> tensors = HfCheckpoint.load(base, manager, DataType.FLOAT32);
      Map<String, NDArray> rewritten = new TreeMap<>();
      for (Map.Entry<String, NDArray> t : tensors.entrySet()) {
        boolean projection = t.getKey().contains("_proj.weight");
        rewritten.put(
            t.getKey(),
            projection
                ? manager.create(
                    transform.apply(t.getValue().toFloatArray()), t.getValue().getShape())
                : t.getValue());
      }
      HfCheckpoint.save(out, rewritten, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES);
    }
    return out;
  }

  static float[] nf4RoundTrip(float[] values) {
    return Nf4.dequantize(Nf4.quantize(values, 64));
  }

  static float[] halfRoundTrip(float[] values) {
    try (NDManager manager = Torch.engine().newBaseManager()) {
      return manager
          .create(values)
          .toType(DataType.FLOAT16, false)
          .toType(DataType.FLOAT32, false)
          .toFloatArray();
    }
  }

  /** LoRA gradients (and the loss) of one batch, after B was given random values. */
  static Map<String, float[]> gradients(Path base, Projections frozen, long chunk) {
    return gradients(base, frozen, chunk, IDS);
  }

  static Map<String, float[]> gradients(
      Path base, Projections frozen, long chunk, long[] tokenIds) {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(4, 8, 0.0, LoraSettings.ALL_LINEAR, false), 3);
    Map<String, float[]> result = new LinkedHashMap<>();
    try (LlamaModel model =
            LlamaModel.load(base, Compute.CPU_FLOAT32, adapter.projections(frozen));
        NDManager scope = model.manager().newSubManager()) {
      adapter
          .parameters()
          .forEach(
              (name, tensor) -> {
                if (name.endsWith("lora_B.weight")) {
                  Torch.engine().setRandomSeed(name.hashCode());
                  NDArray noise =
                      tensor
                          .getManager()
                          .randomNormal(0, 0.05f, tensor.getShape(), DataType.FLOAT32);
                  Autograd.withGrad(false, () -> tensor.addi(noise));
                }
                tensor.setRequiresGradient(true);
              });
      NDArray ids = scope.create(tokenIds, new Shape(2, tokenIds.length / 2));
      NDArray labels = ids.duplicate();
      labels.set(new ai.djl.ndarray.index.NDIndex("0, 0:3"), CausalLmLoss.IGNORE);
      double loss =
          Autograd.withGrad(
              true,
              () -> {
                if (chunk > 0) {
                  NDArray hidden = model.hiddenStates(ids, null);
                  return ChunkedCrossEntropy.backward(model, hidden, labels, 1f, chunk)[0];
                }
                CausalLmLoss.Result whole =
                    CausalLmLoss.crossEntropy(model.forward(ids, null, null), labels);
                Autograd.backward(whole.loss());
                return (double) whole.loss().getFloat();
              });
      result.put("loss", new float[] {(float) loss});
      adapter
          .parameters()
          .forEach((name, tensor) -> result.put(name, tensor.getGradient().toFloatArray()));
    }
    return result;
  }

  /** max |a - b| over max |b|, per tensor; the worst. */
  static double worstRelativeDifference(Map<String, float[]> a, Map<String, float[]> b) {
    assertEquals(b.keySet(), a.keySet());
    double worst = 0;
    for (String name : b.keySet()) {
      double scale = 1e-12;
      double diff = 0;
      for (int i = 0; i < b.get(name).length; i++) {
        scale = Math.max(scale, Math.abs(b.get(name)[i]));
        diff = Math.max(diff, Math.abs(a.get(name)[i] - b.get(name)[i]));
      }
      assertTrue(scale > 1e-9, name + " has no gradient at all");
      worst = Math.max(worst, diff / scale);
    }
    return worst;
  }

  @Test
  void qloraGradientsThroughTheTapeEqualThoseOfTheDequantizedDenseGraph() {
    Map<String, float[]> dense = gradients(nf4Values, Projections.DENSE, 0);
    Map<String, float[]> nf4 =
        gradients(nf4Values, Nf4Linear.projections(64, false, DataType.FLOAT32), 5);
    double worst = worstRelativeDifference(nf4, dense);
    assertTrue(worst < 1e-4, "worst relative gradient difference " + worst);
  }

  /**
   * The same on Gemma's blocks (norms after attention and around the MLP, gelu tanh, soft-capping,
   * sliding layers; Gemma 3's q/k norms): the tape's cuts give the dense graph's gradients.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gemma2", "gemma3"})
  void qloraGradientsOnGemmaBlocksEqualThoseOfTheDenseGraph(String name) throws Exception {
    Path values =
        rewrite(
            Path.of("src/test/resources/reference", name),
            dir.resolve(name + "-nf4-values"),
            SegmentedBackwardTest::nf4RoundTrip);
    long[] ids = java.util.Arrays.stream(IDS).map(id -> id % 96).toArray();
    Map<String, float[]> dense = gradients(values, Projections.DENSE, 0, ids);
    Map<String, float[]> nf4 =
        gradients(values, Nf4Linear.projections(64, false, DataType.FLOAT32), 5, ids);
    double worst = worstRelativeDifference(nf4, dense);
    assertTrue(worst < 1e-4, name + ": worst relative gradient difference " + worst);
  }

  @Test
  void float16ComputeOfTheNf4BaseStaysCloseToFloat32() {
    Map<String, float[]> dense = gradients(nf4Values, Projections.DENSE, 0);
    Map<String, float[]> nf4 =
        gradients(nf4Values, Nf4Linear.projections(64, false, DataType.FLOAT16), 0);
    double worst = worstRelativeDifference(nf4, dense);
    // float16 rounds activations and gradients to 11 significant bits (relative 4.9e-4)
    assertTrue(worst < 1e-2, "worst relative gradient difference " + worst);
  }

  @Test
  void aFloat16FrozenBaseGivesTheGradientsOfItsValuesInFloat32() {
    Map<String, float[]> dense = gradients(halfValues, Projections.DENSE, 0);
    Map<String, float[]> half = gradients(halfValues, HalfLinear.projections(), 0);
    double worst = worstRelativeDifference(half, dense);
    assertTrue(worst < 1e-2, "worst relative gradient difference " + worst);
  }

  @Test
  void theChunkedLossEqualsTheWholeBatchLossAndItsGradients() {
    Map<String, float[]> whole = gradients(nf4Values, Projections.DENSE, 0);
    Map<String, float[]> chunked = gradients(nf4Values, Projections.DENSE, 3);
    double worst = worstRelativeDifference(chunked, whole);
    assertTrue(worst < 1e-5, "worst relative gradient difference " + worst);
  }
}
