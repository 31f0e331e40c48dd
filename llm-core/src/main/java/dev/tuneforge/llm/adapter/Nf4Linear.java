package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.WeightedLinear;

/**
 * A frozen projection stored in NF4 and dequantized on the fly in the compute type: one gather
 * through a 256-entry byte table gives both values of each byte, then blocks are scaled by their
 * absmax (shared/notes/djl-spike.md, section 4). With double quantization the block scales are
 * themselves 8-bit codes, expanded first. The dequantized weight is never part of the autograd
 * graph, so the base gets no gradient.
 */
public final class Nf4Linear implements WeightedLinear {
  private final NDArray packed; // (count/2) UINT8 bytes
  private final NDArray pairTable; // (256, 2)
  private final Scales scales;
  private final NDArray bias;
  private final Shape shape;
  private final int blocksize;

  /** Block scales, plain float or double-quantized. */
  private interface Scales {
    /** (blocks, 1) in the compute type. */
    NDArray expand(NDManager scope);

    long storageBytes();
  }

  private record FloatScales(NDArray absmax) implements Scales {
    public NDArray expand(NDManager scope) {
      return absmax;
    }

    public long storageBytes() {
      return absmax.size() * absmax.getDataType().getNumOfBytes();
    }
  }

  /** 8-bit codes (blocks), one float per 256 codes, the mean offset and the 256-value code. */
  private record QuantizedScales(
      NDArray codes, NDArray absmax, NDArray offset, NDArray code, long blocks) implements Scales {
    public NDArray expand(NDManager scope) {
      NDArray indices = codes.toType(DataType.INT64, false);
      indices.attach(scope);
      NDArray values =
          indices
              .getNDArrayInternal()
              .embedding(indices, code, SparseFormat.DENSE)
              .singletonOrThrow();
      NDArray perScale = absmax.repeat(0, DoubleQuant.BLOCK).get("0:" + blocks); // (blocks)
      perScale.attach(scope);
      return values.mul(perScale.reshape(blocks, 1)).add(offset); // (blocks, 1)
    }

    public long storageBytes() {
      return codes.size() + absmax.size() * 4 + 4;
    }
  }

  private Nf4Linear(
      NDArray packed, NDArray pairTable, Scales scales, NDArray bias, Shape shape, int blocksize) {
    this.packed = packed;
    this.pairTable = pairTable;
    this.scales = scales;
    this.bias = bias;
    this.shape = shape;
    this.blocksize = blocksize;
  }

  /** Quantizes {@code weight} (out, in); the float weight may be freed afterwards. */
  public static Nf4Linear quantize(
      NDArray weight, NDArray bias, int blocksize, boolean doubleQuant, NDManager manager) {
    if (weight.size() % blocksize != 0) {
      throw new IllegalArgumentException(
          "a weight of "
              + weight.size()
              + " values is not a whole number of NF4 blocks of "
              + blocksize);
    }
    Nf4.Quantized quantized =
        Nf4.quantize(weight.toType(DataType.FLOAT32, false).toFloatArray(), blocksize);
    NDArray packed = manager.create(quantized.packed()).toType(DataType.UINT8, false);
    DataType compute = weight.getDataType();
    NDArray table = manager.create(Nf4.pairTable(), new Shape(256, 2)).toType(compute, false);
    float[] absmax = quantized.absmax();
    Scales scales;
    if (doubleQuant) {
      DoubleQuant.Scales q = DoubleQuant.quantize(absmax);
      scales =
          new QuantizedScales(
              manager.create(q.codes()).toType(DataType.UINT8, false),
              manager.create(q.absmax()).toType(compute, false),
              manager.full(new Shape(), q.offset()).toType(compute, false),
              manager.create(DoubleQuant.DYNAMIC_CODE, new Shape(256, 1)).toType(compute, false),
              absmax.length);
    } else {
      scales =
          new FloatScales(
              manager.create(absmax, new Shape(absmax.length, 1)).toType(compute, false));
    }
    return new Nf4Linear(packed, table, scales, bias, weight.getShape(), blocksize);
  }

  /**
   * Projections that quantize every layer projection to NF4 as the model is built and free the
   * float weight (the embedding, norms and LM head stay in the compute type, as bitsandbytes leaves
   * lm_head unquantized).
   */
  public static LlamaModel.Projections projections(int blocksize) {
    return projections(blocksize, false);
  }

  /** As {@link #projections(int)}, optionally with double quantization of the scales. */
  public static LlamaModel.Projections projections(int blocksize, boolean doubleQuant) {
    return (layer, module, weight, bias) -> {
      Nf4Linear quantized = quantize(weight, bias, blocksize, doubleQuant, weight.getManager());
      weight.close();
      return quantized;
    };
  }

  /** The weight in the compute type, (out, in). */
  public NDArray dequantize(NDManager scope) {
    NDArray indices = packed.toType(DataType.INT64, false); // gathers need int64 indices
    indices.attach(scope);
    NDArray pairs =
        indices
            .getNDArrayInternal()
            .embedding(indices, pairTable, SparseFormat.DENSE)
            .singletonOrThrow();
    return pairs.reshape(-1, blocksize).mul(scales.expand(scope)).reshape(shape); // (out, in)
  }

  @Override
  public NDArray weight(NDManager scope) {
    return dequantize(scope);
  }

  @Override
  public NDArray forward(NDArray x) {
    NDArray weight = dequantize(x.getManager());
    return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
  }

  /** Bytes held for the weight: packed codes and block scales. */
  public long storageBytes() {
    return packed.size() + scales.storageBytes();
  }
}
