package dev.tuneforge.llm.adapter;

import java.nio.ByteBuffer;

/**
 * 4-bit NormalFloat quantization (Dettmers et al., 2023, QLoRA) exactly as bitsandbytes does it:
 * per block of {@code blocksize} values (default 64) {@code absmax = max|x|}; each {@code x/absmax}
 * takes the code of the nearest of the 16 NF4 values, a value exactly between two codes taking the
 * lower one; two codes per byte with the even element in the HIGH nibble. Storage: 4 bits per
 * weight plus one float32 absmax per block (4.5 bits/weight at blocksize 64).
 */
public final class Nf4 {
  /** The NF4 code values, index = 4-bit code (bitsandbytes get_4bit_type("nf4")). */
  public static final float[] CODE = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f
  };

  private static final float[] MIDPOINTS = midpoints();

  private Nf4() {}

  /**
   * A quantized tensor.
   *
   * @param packed two codes per byte, element 2k in the high nibble
   * @param absmax one scale per block (a trailing partial block has its own)
   */
  public record Quantized(byte[] packed, float[] absmax, int count, int blocksize) {}

  /** Values read one at a time (an array, or a tensor mapped from its file). */
  @FunctionalInterface
  public interface Source {
    float get(int index);
  }

  /** Quantizes {@code values} (an even count) in blocks of {@code blocksize}. */
  public static Quantized quantize(float[] values, int blocksize) {
    byte[] packed = new byte[values.length / 2];
    float[] absmax = quantize(i -> values[i], values.length, blocksize, ByteBuffer.wrap(packed));
    return new Quantized(packed, absmax, values.length, blocksize);
  }

  /**
   * Quantizes {@code count} values read from {@code values} without copying them, writing the
   * packed codes into {@code packed} (count/2 bytes from index 0); returns the block scales.
   */
  public static float[] quantize(Source values, int count, int blocksize, ByteBuffer packed) {
    if (blocksize < 2 || count % 2 != 0) {
      throw new IllegalArgumentException(
          "NF4 needs an even number of values and blocksize >= 2 (were "
              + count
              + ", "
              + blocksize
              + ")");
    }
    int blocks = (count + blocksize - 1) / blocksize;
    float[] absmax = new float[blocks];
    // Blocks are independent: split them over the cores (absolute reads and writes only).
    int chunk = Math.max(1, (1 << 16) / blocksize);
    java.util.stream.IntStream.range(0, (blocks + chunk - 1) / chunk)
        .parallel()
        .forEach(
            c -> {
              int first = c * chunk;
              int last = Math.min(blocks, first + chunk);
              for (int b = first; b < last; b++) {
                quantizeBlock(values, count, blocksize, b, absmax, packed);
              }
            });
    return absmax;
  }

  private static void quantizeBlock(
      Source values, int count, int blocksize, int block, float[] absmax, ByteBuffer packed) {
    int from = block * blocksize;
    int to = Math.min(count, from + blocksize);
    float max = 0;
    for (int i = from; i < to; i++) {
      max = Math.max(max, Math.abs(values.get(i)));
    }
    absmax[block] = max;
    // blocksize is even, so a byte's two values are in one block
    for (int i = from; i < to; i += 2) {
      int high = code(values.get(i), max);
      int low = code(values.get(i + 1), max);
      packed.put(i / 2, (byte) ((high << 4) | low));
    }
  }

  /** The code of one value: how many midpoints lie strictly below {@code x/absmax}. */
  static int code(float value, float absmax) {
    float scaled = absmax == 0 ? 0f : Math.max(-1f, Math.min(1f, value / absmax));
    if (!(scaled == scaled)) {
      return 0; // NaN: no midpoint is below it
    }
    // A table over [-1, 1] gives a code at most one step off; the midpoints settle it exactly.
    int code = GUESS[(int) ((scaled + 1f) * (GUESS.length - 1) / 2f)];
    while (code < MIDPOINTS.length && MIDPOINTS[code] < scaled) {
      code++;
    }
    while (code > 0 && !(MIDPOINTS[code - 1] < scaled)) {
      code--;
    }
    return code;
  }

  private static final int[] GUESS = guesses(4097);

  private static int[] guesses(int size) {
    int[] table = new int[size];
    for (int i = 0; i < size; i++) {
      float x = -1f + 2f * i / (size - 1);
      int code = 0;
      while (code < MIDPOINTS.length && MIDPOINTS[code] < x) {
        code++;
      }
      table[i] = code;
    }
    return table;
  }

  /** Dequantizes to float32 values, for tests and merging. */
  public static float[] dequantize(Quantized quantized) {
    float[] values = new float[quantized.count()];
    for (int i = 0; i < values.length; i++) {
      int b = quantized.packed()[i / 2] & 0xFF;
      int code = i % 2 == 0 ? b >>> 4 : b & 0x0F;
      values[i] = CODE[code] * quantized.absmax()[i / quantized.blocksize()];
    }
    return values;
  }

  /** The 256x2 table byte -> (value of the high code, value of the low code). */
  static float[] pairTable() {
    float[] table = new float[256 * 2];
    for (int b = 0; b < 256; b++) {
      table[2 * b] = CODE[b >>> 4];
      table[2 * b + 1] = CODE[b & 0x0F];
    }
    return table;
  }

  private static float[] midpoints() {
    float[] midpoints = new float[CODE.length - 1];
    for (int i = 0; i < midpoints.length; i++) {
      midpoints[i] = (CODE[i] + CODE[i + 1]) / 2f;
    }
    return midpoints;
  }
}
