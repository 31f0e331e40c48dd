package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.tuneforge.llm.checkpoint.DirectBuffers;
import dev.tuneforge.llm.checkpoint.Safetensors;
import dev.tuneforge.llm.engine.Tape;
import dev.tuneforge.llm.model.FrozenProjections;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.WeightedLinear;
import java.nio.ByteBuffer;

/**
 * A frozen projection stored in NF4 and dequantized on the fly, a chunk of output rows at a time:
 * on the CPU each code byte becomes its two values through a 256-entry table in Java ({@link
 * Nf4Pairs}, into a pooled scratch tensor), on a GPU through libtorch's gather; then blocks are
 * scaled by their absmax (shared/notes/djl-spike.md, section 4). With double quantization the block
 * scales are themselves 8-bit codes, expanded first.
 *
 * <p>Like bitsandbytes' 4-bit matmul, the dequantized weight lives only for one matmul: the forward
 * runs outside the graph through the thread's {@link Tape}, and the backward dequantizes again for
 * {@code g W}. The matmul runs in {@code computeType} ({@code bnb_4bit_compute_dtype}): float32
 * (the faster on CPUs, README "Real model sizes") or float16. Activations enter and leave in the
 * model's float32; gradients are scaled to at most 1 before they are rounded to float16, so small
 * ones do not underflow.
 */
public final class Nf4Linear implements WeightedLinear, Tape.FrozenProjection {
  private final NDArray packed; // (count/2) UINT8 bytes
  private final NDArray pairTable; // (256, 2) in the compute type
  private final Scales scales;
  private final NDArray bias; // (out) in the model's type, or null
  private final NDArray computeBias; // the bias in the compute type, or null
  private final Shape shape;
  private final int blocksize;
  private final DataType computeType;
  private final DataType modelType;

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
      NDArray codes, NDArray absmax, NDArray offset, NDArray code, long blocks, DataType type)
      implements Scales {
    public NDArray expand(NDManager scope) {
      try (NDManager local = scope.newSubManager()) {
        NDArray indices = codes.toType(DataType.INT32, false);
        indices.attach(local);
        NDArray values =
            indices
                .getNDArrayInternal()
                .embedding(indices, code, SparseFormat.DENSE)
                .singletonOrThrow(); // (blocks, 1) float32
        // repeat() of the model's absmax would land in the model's manager: move it at once
        NDArray repeated = absmax.repeat(0, DoubleQuant.BLOCK);
        repeated.attach(local);
        NDArray perScale = repeated.get("0:" + blocks); // (blocks)
        NDArray expanded = values.mul(perScale.reshape(blocks, 1)).add(offset);
        NDArray result = type == DataType.FLOAT32 ? expanded : expanded.toType(type, false);
        result.attach(scope);
        return result;
      }
    }

    public long storageBytes() {
      return codes.size() + absmax.size() * 4 + 4;
    }
  }

  private Nf4Linear(
      NDArray packed,
      NDArray pairTable,
      Scales scales,
      NDArray bias,
      Shape shape,
      int blocksize,
      DataType computeType,
      DataType modelType) {
    this.packed = packed;
    this.pairTable = pairTable;
    this.scales = scales;
    this.bias = bias;
    this.computeBias =
        bias == null || bias.getDataType() == computeType ? bias : bias.toType(computeType, false);
    this.shape = shape;
    this.blocksize = blocksize;
    this.computeType = computeType;
    this.modelType = modelType;
  }

  /** Quantizes {@code weight} (out, in), computing in the weight's own type. */
  public static Nf4Linear quantize(
      NDArray weight, NDArray bias, int blocksize, boolean doubleQuant, NDManager manager) {
    float[] values = weight.toType(DataType.FLOAT32, false).toFloatArray();
    return quantize(
        i -> values[i],
        weight.getShape(),
        bias,
        blocksize,
        doubleQuant,
        manager,
        weight.getDataType(),
        weight.getDataType());
  }

  /**
   * Quantizes {@code count(shape)} values read one at a time (straight from a mapped checkpoint
   * tensor: no float copy of the weight is made).
   */
  static Nf4Linear quantize(
      Nf4.Source values,
      Shape shape,
      NDArray bias,
      int blocksize,
      boolean doubleQuant,
      NDManager manager,
      DataType modelType,
      DataType computeType) {
    long count = shape.size();
    if (count % blocksize != 0 || count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "a weight of " + count + " values is not a whole number of NF4 blocks of " + blocksize);
    }
    ByteBuffer bytes = ByteBuffer.allocateDirect((int) (count / 2));
    float[] absmax = Nf4.quantize(values, (int) count, blocksize, bytes);
    NDArray packed;
    try (NDArray view = manager.create(bytes, new Shape(count / 2), DataType.UINT8)) {
      packed = view.duplicate(); // libtorch-owned, so the staging buffer can go now
    } finally {
      DirectBuffers.free(bytes);
    }
    NDArray table = manager.create(Nf4.pairTable(), new Shape(256, 2)).toType(computeType, false);
    Scales scales;
    if (doubleQuant) {
      DoubleQuant.Scales q = DoubleQuant.quantize(absmax);
      scales =
          new QuantizedScales(
              manager.create(q.codes()).toType(DataType.UINT8, false),
              manager.create(q.absmax()),
              manager.full(new Shape(), q.offset()),
              manager.create(DoubleQuant.DYNAMIC_CODE, new Shape(256, 1)),
              absmax.length,
              computeType);
    } else {
      scales =
          new FloatScales(
              manager.create(absmax, new Shape(absmax.length, 1)).toType(computeType, false));
    }
    return new Nf4Linear(packed, table, scales, bias, shape, blocksize, computeType, modelType);
  }

  /**
   * Projections that quantize every layer projection to NF4 as the model is built, straight from
   * the checkpoint's stored values, computing in float32 (the embedding, norms and LM head stay in
   * the model's type, as bitsandbytes leaves lm_head unquantized).
   */
  public static Projections projections(int blocksize) {
    return projections(blocksize, false);
  }

  /** As {@link #projections(int)}, optionally with double quantization of the scales. */
  public static Projections projections(int blocksize, boolean doubleQuant) {
    return projections(blocksize, doubleQuant, DataType.FLOAT32);
  }

  /** As {@link #projections(int, boolean)}, with the matmuls in {@code computeType}. */
  public static Projections projections(int blocksize, boolean doubleQuant, DataType computeType) {
    if (computeType == DataType.BFLOAT16
        && !dev.tuneforge.llm.engine.HalfPrecision.bfloat16Mapped()) {
      throw dev.tuneforge.llm.engine.HalfPrecision.bfloat16Refused("bnb_4bit_compute_dtype");
    }
    if (computeType != DataType.FLOAT32
        && computeType != DataType.FLOAT16
        && computeType != DataType.BFLOAT16) {
      throw new IllegalArgumentException(
          "bnb_4bit_compute_dtype must be float32, float16 or bfloat16 but was " + computeType);
    }
    // NF4 is chosen to save memory: freed tensors go back to the system too (engine.NativeMemory)
    dev.tuneforge.llm.engine.NativeMemory.returnFreedTensorsToTheSystem();
    return (layer, module, weight, bias) -> {
      try (Safetensors.Values values = weight.values()) {
        return quantize(
            values::get,
            weight.shape(),
            bias,
            blocksize,
            doubleQuant,
            weight.manager(),
            weight.dataType(),
            computeType);
      }
    };
  }

  /** The weight (out, in) in the compute type; intermediates are freed before it returns. */
  private NDArray dequantize(NDManager scope) {
    try (NDManager local = scope.newSubManager()) {
      NDArray weight = dequantizeRows(0, shape.get(0), scales.expand(local), local);
      weight.attach(scope);
      return weight; // (out, in)
    }
  }

  /** Rows [from, to) of the weight in the compute type, given every block's scale. */
  private NDArray dequantizeRows(long from, long to, NDArray blockScales, NDManager local) {
    long in = shape.get(1);
    boolean whole = from == 0 && to == shape.get(0);
    NDArray codes = whole ? packed : packed.get((from * in / 2) + ":" + (to * in / 2));
    NDArray indices = codes.toType(DataType.INT32, false); // embedding takes int32 indices
    indices.attach(local); // results attach to their first operand's manager: keep them local
    if (!whole) {
      codes.attach(local);
    }
    NDArray pairs =
        indices
            .getNDArrayInternal()
            .embedding(indices, pairTable, SparseFormat.DENSE)
            .singletonOrThrow(); // (rows * in / 2, 2)
    NDArray rowScales = blockScales;
    if (!whole) {
      rowScales = blockScales.get((from * in / blocksize) + ":" + (to * in / blocksize));
      rowScales.attach(local);
    }
    return pairs.reshape(-1, blocksize).muli(rowScales).reshape(to - from, in); // (rows, in)
  }

  /**
   * Output rows per dequantized chunk: about a million weights, so each chunk's temporaries are a
   * few megabytes that malloc hands out again at once, instead of fresh pages for a whole
   * 100-megabyte weight every matmul (the page faults cost more than the matmul). Blocks must not
   * straddle rows, else the weight is one chunk.
   */
  private long chunkRows() {
    long in = shape.get(1);
    if (in % blocksize != 0) {
      return shape.get(0);
    }
    return Math.max(1, Math.min(shape.get(0), chunkWeights / in));
  }

  /**
   * A scratch for {@code step} rows where the codes are expanded in Java (on the CPU), else null:
   * on a GPU the codes live in device memory and libtorch's gather expands them there.
   */
  private Nf4Pairs.Scratch scratch(long step) {
    if (packed.getDevice().isGpu()) {
      return null;
    }
    return Nf4Pairs.acquire(step * shape.get(1) * computeType.getNumOfBytes());
  }

  /**
   * Rows [from, to) of the weight in the compute type: in {@code scratch}'s memory when there is
   * one (valid until the next chunk), else a tensor of {@code chunk}.
   */
  private NDArray chunkWeight(
      long from, long to, NDArray blockScales, Nf4Pairs.Scratch scratch, NDManager chunk) {
    if (scratch == null) {
      return dequantizeRows(from, to, blockScales, chunk);
    }
    long in = shape.get(1);
    NDArray values =
        Nf4Pairs.expand(
            codes(), from * in / 2, to * in / 2, blocksize, computeType, scratch, chunk);
    NDArray rowScales = blockScales;
    if (from != 0 || to != shape.get(0)) {
      rowScales = blockScales.get((from * in / blocksize) + ":" + (to * in / blocksize));
      rowScales.attach(chunk);
    }
    return values.muli(rowScales).reshape(to - from, in); // in place, in the scratch
  }

  /** A Java view of the packed codes (no copy; valid while {@code packed} lives). */
  private ByteBuffer codes() {
    ByteBuffer view = codesView;
    if (view == null) {
      view = packed.toByteBuffer(true);
      codesView = view;
    }
    return view;
  }

  private volatile ByteBuffer codesView;

  /** Weights dequantized at once (tests lower it to exercise several chunks). */
  static long chunkWeights = 1L << 20;

  /** The weight (out, in) in the model's type (for DoRA norms, merging and tests). */
  @Override
  public NDArray weight(NDManager scope) {
    NDArray weight = dequantize(scope);
    if (weight.getDataType() == modelType) {
      return weight;
    }
    NDArray widened = weight.toType(modelType, false);
    weight.close();
    return widened;
  }

  @Override
  public NDArray forward(NDArray x) {
    return FrozenProjections.forward(this, x, bias);
  }

  @Override
  public boolean frozenBase() {
    return true;
  }

  @Override
  public NDArray apply(NDArray x) {
    NDManager scope = x.getManager();
    try (NDManager local = scope.newSubManager()) {
      NDArray input = x;
      if (x.getDataType() != computeType) {
        input = x.toType(computeType, false);
        input.attach(local);
      }
      NDArray blockScales = scales.expand(local);
      long rows = shape.get(0);
      long step = chunkRows();
      ai.djl.ndarray.NDList parts = new ai.djl.ndarray.NDList();
      try (Nf4Pairs.Scratch scratch = scratch(step)) {
        for (long from = 0; from < rows; from += step) {
          long to = Math.min(rows, from + step);
          try (NDManager chunk = local.newSubManager()) {
            NDArray weight = chunkWeight(from, to, blockScales, scratch, chunk);
            NDArray part =
                input.getNDArrayInternal().linear(input, weight, null).singletonOrThrow();
            part.attach(local); // (..., to - from)
            parts.add(part);
          }
        }
      }
      NDArray y = parts.size() == 1 ? parts.get(0) : ai.djl.ndarray.NDArrays.concat(parts, -1);
      NDArray frozenBias = FrozenProjections.frozenBias(bias, computeBias);
      if (frozenBias != null) {
        y = y.add(frozenBias);
      }
      NDArray result = y.getDataType() == x.getDataType() ? y : y.toType(x.getDataType(), false);
      result.attach(scope);
      return result;
    }
  }

  @Override
  public NDArray inputGradient(NDArray gradOutput) {
    NDManager scope = gradOutput.getManager();
    try (NDManager local = scope.newSubManager()) {
      NDArray g = gradOutput;
      NDArray scale = null;
      if (computeType != gradOutput.getDataType()) {
        NDArray[] scaled = FrozenProjections.scaledToHalf(gradOutput, local, computeType);
        g = scaled[0];
        scale = scaled[1];
      }
      NDArray blockScales = scales.expand(local);
      long rows = shape.get(0);
      long step = chunkRows();
      NDArray sum = null; // g W = sum over row chunks of g[..., rows] W[rows, :]
      try (Nf4Pairs.Scratch scratch = scratch(step)) {
        for (long from = 0; from < rows; from += step) {
          long to = Math.min(rows, from + step);
          try (NDManager chunk = local.newSubManager()) {
            NDArray weight = chunkWeight(from, to, blockScales, scratch, chunk);
            NDArray slice = g;
            if (step != rows) {
              slice = g.get("..., " + from + ":" + to);
              slice.attach(chunk);
            }
            NDArray part = slice.matMul(weight); // (..., in) in the compute type
            part =
                part.getDataType() == DataType.FLOAT32
                    ? part
                    : part.toType(DataType.FLOAT32, false);
            if (sum == null) {
              sum = part;
              sum.attach(local);
            } else {
              sum.addi(part);
            }
          }
        }
      }
      NDArray result = scale == null ? sum : sum.muli(scale);
      result =
          result.getDataType() == gradOutput.getDataType()
              ? result
              : result.toType(gradOutput.getDataType(), false);
      result.attach(scope);
      return result;
    }
  }

  /** The compute type of the matmuls. */
  public DataType computeType() {
    return computeType;
  }

  /** Bytes held for the weight: packed codes and block scales. */
  public long storageBytes() {
    return packed.size() + scales.storageBytes();
  }
}
