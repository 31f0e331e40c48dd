package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.tuneforge.llm.model.Linear;
import dev.tuneforge.llm.model.LlamaModel;

/**
 * A frozen projection stored in NF4 and dequantized on the fly in the compute type: one gather
 * through a 256-entry byte table gives both values of each byte, then blocks are scaled by their
 * absmax (shared/notes/djl-spike.md, section 4). The dequantized weight is never part of the
 * autograd graph, so the base gets no gradient.
 */
public final class Nf4Linear implements Linear {
  private final NDArray packed; // (count/2) INT64 indices into the pair table
  private final NDArray absmax; // (blocks, 1)
  private final NDArray pairTable; // (256, 2)
  private final NDArray bias;
  private final Shape shape;
  private final int blocksize;

  private Nf4Linear(
      NDArray packed, NDArray absmax, NDArray pairTable, NDArray bias, Shape shape, int blocksize) {
    this.packed = packed;
    this.absmax = absmax;
    this.pairTable = pairTable;
    this.bias = bias;
    this.shape = shape;
    this.blocksize = blocksize;
  }

  /**
   * Quantizes {@code weight} (out, in) into {@code manager}; the float weight may be freed
   * afterwards.
   */
  public static Nf4Linear quantize(NDArray weight, NDArray bias, int blocksize, NDManager manager) {
    if (weight.size() % blocksize != 0) {
      throw new IllegalArgumentException(
          "a weight of "
              + weight.size()
              + " values is not a whole number of NF4 blocks of "
              + blocksize);
    }
    Nf4.Quantized quantized =
        Nf4.quantize(weight.toType(DataType.FLOAT32, false).toFloatArray(), blocksize);
    long[] indices = new long[quantized.packed().length];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = quantized.packed()[i] & 0xFF;
    }
    // Stored as bytes on the Java side; int64 indices here because libtorch gathers need them.
    NDArray packed = manager.create(indices).toType(DataType.UINT8, false);
    DataType compute = weight.getDataType();
    NDArray absmax =
        manager
            .create(quantized.absmax(), new Shape(quantized.absmax().length, 1))
            .toType(compute, false);
    NDArray table = manager.create(Nf4.pairTable(), new Shape(256, 2)).toType(compute, false);
    return new Nf4Linear(packed, absmax, table, bias, weight.getShape(), blocksize);
  }

  /**
   * Projections that quantize every layer projection to NF4 as the model is built and free the
   * float weight (the embedding, norms and LM head stay in the compute type, as bitsandbytes leaves
   * lm_head unquantized).
   */
  public static LlamaModel.Projections projections(int blocksize) {
    return (layer, module, weight, bias) -> {
      Nf4Linear quantized = quantize(weight, bias, blocksize, weight.getManager());
      weight.close();
      return quantized;
    };
  }

  /** The weight in the compute type, (out, in). */
  public NDArray dequantize(NDManager scope) {
    NDArray indices = packed.toType(DataType.INT64, false);
    indices.attach(scope);
    NDArray pairs =
        indices
            .getNDArrayInternal()
            .embedding(indices, pairTable, SparseFormat.DENSE)
            .singletonOrThrow();
    return pairs.reshape(-1, blocksize).mul(absmax).reshape(shape); // (out, in)
  }

  @Override
  public NDArray forward(NDArray x) {
    NDArray weight = dequantize(x.getManager());
    return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
  }

  /** Bytes held for the weight: packed codes and block scales. */
  public long storageBytes() {
    return packed.size() + absmax.size() * absmax.getDataType().getNumOfBytes();
  }
}
