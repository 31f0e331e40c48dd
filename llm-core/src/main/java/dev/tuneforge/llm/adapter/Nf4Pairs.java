package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.engine.Torch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Expands NF4 bytes into their two code values on the CPU without a libtorch gather: each byte
 * indexes a 256-entry table of value pairs, written as one 8-byte (float32 pair) or 4-byte (float16
 * pair) store into a reusable scratch tensor. libtorch's gather (embedding, index, take) spends
 * about 2 ns per byte on this, a plain Java loop about 0.3 ns, and a scratch tensor allocates
 * nothing per matmul, so no fresh pages are faulted in either. The block scales are then applied by
 * libtorch, in place, on that scratch.
 *
 * <p>Scratches come from a pool, so concurrent callers (serving threads) each get their own and the
 * pool holds at most as many as ever ran at once.
 */
final class Nf4Pairs {
  /** Byte b's two values as they lie in memory: float32 pairs as longs, float16 pairs as ints. */
  private static final long[] FLOAT_PAIRS = new long[256];

  private static final int[] HALF_PAIRS = new int[256];

  static {
    // libtorch writes the table in each type, so the bytes are exactly what its own cast gives
    try (NDManager manager = Torch.engine().newBaseManager()) {
      NDArray table = manager.create(Nf4.pairTable(), new Shape(256, 2));
      LongBuffer floats = table.toByteBuffer(false).order(ByteOrder.nativeOrder()).asLongBuffer();
      floats.get(FLOAT_PAIRS);
      IntBuffer halves =
          table
              .toType(DataType.FLOAT16, false)
              .toByteBuffer(false)
              .order(ByteOrder.nativeOrder())
              .asIntBuffer();
      halves.get(HALF_PAIRS);
    }
  }

  /**
   * bfloat16 pairs, made by libtorch's cast on first use only: with DJL's own JNI a bfloat16 tensor
   * aborts the process, so nothing bfloat16 exists unless it is asked for (and the JNI maps it).
   */
  private static final class Bfloat16Pairs {
    static final int[] TABLE = new int[256];

    static {
      try (NDManager manager = Torch.engine().newBaseManager()) {
        manager
            .create(Nf4.pairTable(), new Shape(256, 2))
            .toType(DataType.BFLOAT16, false)
            .toByteBuffer(false)
            .order(ByteOrder.nativeOrder())
            .asIntBuffer()
            .get(TABLE);
      }
    }
  }

  /** Bytes [from, to) of the chunk starting at {@code start}, as pairs in {@code out}. */
  private static void write(
      ByteBuffer codes, int start, ByteBuffer out, int from, int to, DataType type) {
    if (type == DataType.FLOAT32) {
      LongBuffer pairs = out.asLongBuffer();
      for (int j = from; j < to; j++) {
        pairs.put(j, FLOAT_PAIRS[codes.get(start + j) & 0xFF]);
      }
    } else {
      int[] table = type == DataType.FLOAT16 ? HALF_PAIRS : Bfloat16Pairs.TABLE;
      IntBuffer pairs = out.asIntBuffer();
      for (int j = from; j < to; j++) {
        pairs.put(j, table[codes.get(start + j) & 0xFF]);
      }
    }
  }

  private static final ConcurrentLinkedDeque<Scratch> POOL = new ConcurrentLinkedDeque<>();

  private Nf4Pairs() {}

  /** A libtorch-owned buffer the expanded values are written into, and a Java view of it. */
  static final class Scratch implements AutoCloseable {
    private final NDManager manager;
    private final ByteBuffer bytes;

    private Scratch(long capacityBytes) {
      manager = Torch.engine().newBaseManager();
      NDArray tensor = manager.zeros(new Shape(capacityBytes), DataType.UINT8);
      bytes = tensor.toByteBuffer(true).order(ByteOrder.nativeOrder()); // a view, no copy
    }

    long capacity() {
      return bytes.capacity();
    }

    @Override
    public void close() {
      POOL.push(this);
    }
  }

  /** A scratch of at least {@code bytes} bytes, to close (return) when the values are used. */
  static Scratch acquire(long bytes) {
    Scratch scratch;
    while ((scratch = POOL.poll()) != null) {
      if (scratch.capacity() >= bytes) {
        return scratch;
      }
      scratch.manager.close(); // too small for the largest chunk: replaced by a bigger one
    }
    return new Scratch(bytes);
  }

  /**
   * The values of bytes [from, to) of {@code codes}, as a ((to - from) * 2 / blocksize, blocksize)
   * tensor of {@code type} in {@code scratch}'s memory, attached to {@code scope}. It is valid
   * until the scratch is used again.
   */
  static NDArray expand(
      ByteBuffer codes,
      long from,
      long to,
      int blocksize,
      DataType type,
      Scratch scratch,
      NDManager scope) {
    int count = Math.toIntExact(to - from);
    int start = Math.toIntExact(from);
    ByteBuffer out;
    if (type != DataType.FLOAT32 && type != DataType.FLOAT16 && type != DataType.BFLOAT16) {
      throw new IllegalArgumentException(
          "NF4 expands to float32, float16 or bfloat16, not " + type);
    }
    boolean floats = type == DataType.FLOAT32;
    write(codes, start, scratch.bytes, 0, count, type);
    out = scratch.bytes.slice(0, count * (floats ? 8 : 4));
    return scope.create(
        out.order(ByteOrder.nativeOrder()), new Shape(2L * count / blocksize, blocksize), type);
  }
}
