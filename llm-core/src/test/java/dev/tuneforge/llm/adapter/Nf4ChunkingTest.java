package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Dequantizing an NF4 weight a few rows at a time gives the same projection and input gradient as
 * dequantizing it whole, for float32 and float16 compute and double-quantized scales: rows are
 * whole blocks, and the input gradient is the sum of the row chunks' products.
 */
class Nf4ChunkingTest {
  @AfterEach
  void restore() {
    Nf4Linear.chunkWeights = 1L << 20;
  }

  private static float[][] run(DataType compute, boolean doubleQuant, long chunkWeights) {
    Nf4Linear.chunkWeights = chunkWeights;
    try (NDManager manager = Torch.engine().newBaseManager()) {
      Torch.engine().setRandomSeed(7);
      NDArray weight = manager.randomNormal(0, 0.02f, new Shape(96, 128), DataType.FLOAT32);
      NDArray bias = manager.randomNormal(0, 0.01f, new Shape(96), DataType.FLOAT32);
      NDArray x = manager.randomNormal(0, 1f, new Shape(2, 5, 128), DataType.FLOAT32);
      NDArray g = manager.randomNormal(0, 1e-6f, new Shape(2, 5, 96), DataType.FLOAT32);
      float[] values = weight.toFloatArray();
      Nf4Linear linear =
          Nf4Linear.quantize(
              i -> values[i],
              weight.getShape(),
              bias,
              64,
              doubleQuant,
              manager,
              DataType.FLOAT32,
              compute);
      return Autograd.withGrad(
          false,
          () ->
              new float[][] {
                linear.apply(x).toFloatArray(), linear.inputGradient(g).toFloatArray()
              });
    }
  }

  private static void assertChunkingChangesNothing(DataType compute, boolean doubleQuant) {
    float[][] whole = run(compute, doubleQuant, 1L << 20);
    float[][] chunked = run(compute, doubleQuant, 2 * 128); // two rows a chunk, 48 chunks
    float tolerance = compute == DataType.FLOAT32 ? 1e-6f : 1e-3f;
    assertArrayEquals(whole[0], chunked[0], tolerance, "outputs");
    assertArrayEquals(whole[1], chunked[1], tolerance * 1e-6f, "input gradients");
  }

  /**
   * The matmuls expand codes in Java ({@link Nf4Pairs}); {@code weight()} dequantizes through
   * libtorch's gather. Both must give the same weight: the projection equals {@code x W^T} and the
   * input gradient {@code g W} with W from the gather, for float32 and float16 compute.
   */
  @Test
  void javaExpansionEqualsTheTorchGather() {
    for (DataType compute : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
      try (NDManager manager = Torch.engine().newBaseManager()) {
        Torch.engine().setRandomSeed(11);
        NDArray weight = manager.randomNormal(0, 0.02f, new Shape(64, 192), DataType.FLOAT32);
        NDArray x = manager.randomNormal(0, 1f, new Shape(3, 192), DataType.FLOAT32);
        NDArray g = manager.randomNormal(0, 1f, new Shape(3, 64), DataType.FLOAT32);
        float[] values = weight.toFloatArray();
        Nf4Linear linear =
            Nf4Linear.quantize(
                i -> values[i],
                weight.getShape(),
                null,
                64,
                true,
                manager,
                DataType.FLOAT32,
                compute);
        NDArray gathered = linear.weight(manager); // (64, 192) float32, through libtorch
        float tolerance = compute == DataType.FLOAT32 ? 1e-6f : 2e-3f;
        Autograd.withGrad(
            false,
            () -> {
              assertArrayEquals(
                  x.matMul(gathered.transpose()).toFloatArray(),
                  linear.apply(x).toFloatArray(),
                  tolerance,
                  compute + " outputs");
              assertArrayEquals(
                  g.matMul(gathered).toFloatArray(),
                  linear.inputGradient(g).toFloatArray(),
                  tolerance,
                  compute + " input gradients");
              return null;
            });
      }
    }
  }

  @Test
  void chunkedFloat32DequantizationEqualsWhole() {
    assertChunkingChangesNothing(DataType.FLOAT32, false);
  }

  @Test
  void chunkedFloat16DequantizationWithDoubleQuantizedScalesEqualsWhole() {
    assertChunkingChangesNothing(DataType.FLOAT16, true);
  }
}
