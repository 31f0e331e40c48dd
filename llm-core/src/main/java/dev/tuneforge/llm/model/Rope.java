package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;

/**
 * Rotary position embeddings (Su et al., 2021) in the Hugging Face "rotate half" layout: for a head
 * vector x split into halves (x1, x2), {@code rope(x) = x*cos + (-x2, x1)*sin} with angles {@code
 * position * theta^(-2i/headDim)}, optionally rescaled by {@link RopeScaling}. The cos and sin
 * tables ({@code maxPositions, headDim}) are computed once, in float32 as PyTorch does.
 */
public final class Rope {
  private final NDArray cos;
  private final NDArray sin;
  private final NDArray rotateHalf;

  private Rope(NDArray cos, NDArray sin, NDArray rotateHalf) {
    this.cos = cos;
    this.sin = sin;
    this.rotateHalf = rotateHalf;
  }

  /** Tables for positions {@code 0 .. maxPositions-1}. */
  public static Rope create(
      NDManager manager, LlamaConfig config, int maxPositions, DataType floatType) {
    return create(
        manager,
        config.headDim(),
        config.ropeTheta(),
        config.ropeScaling().orElse(null),
        maxPositions,
        floatType);
  }

  /**
   * Tables for base {@code theta} and {@code scaling} (null for none): Gemma 3's sliding layers use
   * a base of their own without the global scaling.
   */
  public static Rope create(
      NDManager manager,
      int headDim,
      double theta,
      RopeScaling scaling,
      int maxPositions,
      DataType floatType) {
    double[] inverse = new double[headDim / 2];
    for (int i = 0; i < inverse.length; i++) {
      float exponent = (float) (2 * i) / headDim;
      inverse[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
    }
    double[] frequencies = scaling == null ? inverse : scaling.scale(inverse);
    float[] cosTable = new float[maxPositions * headDim];
    float[] sinTable = new float[maxPositions * headDim];
    for (int position = 0; position < maxPositions; position++) {
      for (int i = 0; i < headDim; i++) {
        float angle = (float) position * (float) frequencies[i % (headDim / 2)];
        cosTable[position * headDim + i] = (float) Math.cos(angle);
        sinTable[position * headDim + i] = (float) Math.sin(angle);
      }
    }
    Shape shape = new Shape(maxPositions, headDim);
    return new Rope(
        manager.create(cosTable, shape).toType(floatType, false),
        manager.create(sinTable, shape).toType(floatType, false),
        rotateHalfMatrix(manager, headDim).toType(floatType, false));
  }

  /**
   * R with {@code x R = (-x2, x1)}: one exact matmul (each column has a single +-1) instead of two
   * slices, a negation and a concatenation, which matters when a decode step is dominated by the
   * number of ops.
   */
  private static NDArray rotateHalfMatrix(NDManager manager, int headDim) {
    int half = headDim / 2;
    float[] r = new float[headDim * headDim];
    for (int j = 0; j < half; j++) {
      r[(j + half) * headDim + j] = -1f; // output j takes -x[j + half]
      r[j * headDim + j + half] = 1f; // output j + half takes x[j]
    }
    return manager.create(r, new Shape(headDim, headDim));
  }

  /** The number of positions the tables cover. */
  public long maxPositions() {
    return cos.getShape().get(0);
  }

  /** Angles for {@code positions} (batch, seqLen): cos and sin as (batch, 1, seqLen, headDim). */
  public NDArray[] angles(NDArray positions) {
    // embedding() with the positions first keeps the results in the caller's scope.
    NDArray c =
        positions
            .getNDArrayInternal()
            .embedding(positions, cos, SparseFormat.DENSE)
            .singletonOrThrow();
    NDArray s =
        positions
            .getNDArrayInternal()
            .embedding(positions, sin, SparseFormat.DENSE)
            .singletonOrThrow();
    return new NDArray[] {c.expandDims(1), s.expandDims(1)};
  }

  /** Rotates {@code x} (batch, heads, seqLen, headDim). */
  public NDArray apply(NDArray x, NDArray[] angles) {
    NDArray rotated = x.matMul(rotateHalf); // (batch, heads, seqLen, headDim): (-x2, x1)
    return x.mul(angles[0]).add(rotated.mul(angles[1]));
  }
}
