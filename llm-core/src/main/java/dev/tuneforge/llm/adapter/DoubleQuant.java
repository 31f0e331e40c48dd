package dev.tuneforge.llm.adapter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * QLoRA's double quantization of the NF4 block scales: subtract their mean ({@code offset}), then
 * quantize them blockwise (blocks of 256) to 8 bits with bitsandbytes' signed dynamic code ({@code
 * create_dynamic_map}: 7 decades of evenly spaced fractions, +-, plus 0 and 1), each value taking
 * the nearest code. A scale costs 8 bits instead of 32, so NF4 at blocksize 64 drops from 4.5 to
 * about 4.127 bits per weight.
 */
public final class DoubleQuant {
  /** Scales per second-level block. */
  public static final int BLOCK = 256;

  static final float[] DYNAMIC_CODE = dynamicCode();

  private DoubleQuant() {}

  /**
   * Quantized scales.
   *
   * @param codes one 8-bit code per scale
   * @param absmax one float per block of 256 scales
   * @param offset the mean that was subtracted
   */
  public record Scales(byte[] codes, float[] absmax, float offset) {}

  public static Scales quantize(float[] scales) {
    double sum = 0;
    for (float s : scales) {
      sum += s;
    }
    float offset = (float) (sum / scales.length);
    int blocks = (scales.length + BLOCK - 1) / BLOCK;
    float[] absmax = new float[blocks];
    for (int i = 0; i < scales.length; i++) {
      absmax[i / BLOCK] = Math.max(absmax[i / BLOCK], Math.abs(scales[i] - offset));
    }
    byte[] codes = new byte[scales.length];
    for (int i = 0; i < scales.length; i++) {
      float block = absmax[i / BLOCK];
      float normalized = block == 0 ? 0 : (scales[i] - offset) / block;
      codes[i] = (byte) nearest(normalized);
    }
    return new Scales(codes, absmax, offset);
  }

  /** {@code scale_i = code[q_i] * absmax[i / 256] + offset}. */
  public static float[] dequantize(Scales scales) {
    float[] values = new float[scales.codes().length];
    for (int i = 0; i < values.length; i++) {
      values[i] =
          DYNAMIC_CODE[scales.codes()[i] & 0xFF] * scales.absmax()[i / BLOCK] + scales.offset();
    }
    return values;
  }

  /** The index of the code value nearest to {@code x} (the lower one on a tie). */
  static int nearest(float x) {
    int low = 0;
    int high = DYNAMIC_CODE.length - 1;
    while (high - low > 1) {
      int middle = (low + high) >>> 1;
      if (DYNAMIC_CODE[middle] <= x) {
        low = middle;
      } else {
        high = middle;
      }
    }
    return Math.abs(x - DYNAMIC_CODE[high]) < Math.abs(x - DYNAMIC_CODE[low]) ? high : low;
  }

  /** bitsandbytes create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8), sorted. */
  private static float[] dynamicCode() {
    List<Float> data = new ArrayList<>();
    int exponentBits = 7;
    for (int i = 0; i < exponentBits; i++) {
      int fractionItems = (1 << i) + 1;
      double decade = Math.pow(10, -(exponentBits - 1) + i);
      for (int k = 0; k + 1 < fractionItems; k++) {
        double a = linspace(0.1, 1, fractionItems, k);
        double b = linspace(0.1, 1, fractionItems, k + 1);
        float mean = (float) ((a + b) / 2);
        data.add((float) (decade * mean));
        data.add((float) (-decade * mean));
      }
    }
    data.add(0f);
    data.add(1f);
    Collections.sort(data);
    float[] code = new float[data.size()];
    for (int i = 0; i < code.length; i++) {
      code[i] = data.get(i);
    }
    return code;
  }

  private static double linspace(double start, double end, int steps, int index) {
    return steps == 1 ? start : start + (end - start) * index / (steps - 1);
  }
}
