package dev.tuneforge.llm.recipe;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.Nf4Linear;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.NativeMemory;
import dev.tuneforge.llm.loss.ChunkedCrossEntropy;
import dev.tuneforge.llm.model.HalfLinear;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A frozen base keeps no dequantized or widened weight from the forward to the backward, and
 * nothing of a step outlives it. Native bytes in use (glibc's malloc, where libtorch allocates) are
 * read after a training forward and after the backward, on a model whose projections dominate its
 * size (8 tokens, so activations are small). Keeping the dequantized float32 weights for the
 * backward, as autograd does for an ordinary matmul, or the codes widened to int64 (4 bytes a
 * weight), would add about the projections' float32 size.
 */
class FrozenBaseMemoryTest {
  @TempDir Path dir;

  static final TinyLlama.Size SIZE = new TinyLlama.Size(256, 2, 4, 2, 1024);

  /** Float32 bytes of every layer projection of {@link #SIZE}. */
  static long projectionBytes() {
    long hidden = SIZE.hiddenSize();
    long kv = hidden / SIZE.numHeads() * SIZE.numKvHeads();
    long perLayer = 2 * hidden * hidden + 2 * hidden * kv + 3 * hidden * SIZE.intermediateSize();
    return 4 * perLayer * SIZE.numLayers();
  }

  void assertNothingHeld(Projections frozen) {
    assumeTrue(NativeMemory.available(), "mallinfo2 needs glibc 2.33 or later");
    TinyLlama.write(dir, 5, SIZE);
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(8, 16, 0.0, LoraSettings.ALL_LINEAR, false), 1);
    try (LlamaModel model =
        LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(frozen))) {
      adapter.parameters().values().forEach(p -> p.setRequiresGradient(true));
      long[] ids = {268, 72, 101, 108, 108, 111, 262, 32};
      // first-use allocations (thread pools, tables, JIT arenas) out of the way
      step(model, ids);
      step(model, ids);
      long before = NativeMemory.mallocBytes();
      long[] afterForward = new long[1];
      try (NDManager scope = model.manager().newSubManager()) {
        NDArray input = scope.create(ids, new Shape(1, ids.length));
        Autograd.withGrad(
            true,
            () -> {
              NDArray hidden = model.hiddenStates(input, null);
              afterForward[0] = NativeMemory.mallocBytes();
              return ChunkedCrossEntropy.backward(model, hidden, input, 1f);
            });
      }
      long afterStep = NativeMemory.mallocBytes();
      long budget = projectionBytes() / 4;
      assertTrue(
          afterForward[0] - before < budget,
          "a training forward left "
              + (afterForward[0] - before)
              + " bytes alive; the float32 projections are "
              + projectionBytes());
      assertTrue(
          afterStep - before < budget,
          "a whole step left " + (afterStep - before) + " bytes alive after it ended");
    }
  }

  private static void step(LlamaModel model, long[] ids) {
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray input = scope.create(ids, new Shape(1, ids.length));
      Autograd.withGrad(
          true,
          () -> ChunkedCrossEntropy.backward(model, model.hiddenStates(input, null), input, 1f));
    }
  }

  @Test
  void qloraKeepsNoDequantizedWeightOrWidenedCodeFromForwardToBackward() {
    assertNothingHeld(Nf4Linear.projections(64, false, DataType.FLOAT32));
  }

  @Test
  void qloraWithFloat16ComputeAndDoubleQuantizationKeepsNoneEither() {
    assertNothingHeld(Nf4Linear.projections(64, true, DataType.FLOAT16));
  }

  @Test
  void aFloat16FrozenBaseKeepsNoWidenedWeight() {
    assertNothingHeld(HalfLinear.projections());
  }
}
