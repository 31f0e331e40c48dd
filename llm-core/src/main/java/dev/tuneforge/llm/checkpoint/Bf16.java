package dev.tuneforge.llm.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * bfloat16 conversions in Java. BF16 is the top half of an IEEE float32, so widening is a 16-bit
 * shift; narrowing rounds to nearest, ties to even, as PyTorch's {@code .to(torch.bfloat16)} does.
 */
final class Bf16 {
  private Bf16() {}

  /** Little-endian BF16 bytes to a new direct buffer of little-endian F32. */
  static ByteBuffer widen(ByteBuffer bf16) {
    int count = bf16.remaining() / 2;
    ByteBuffer out = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer in = bf16.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      out.putInt((in.getShort() & 0xFFFF) << 16);
    }
    return out.flip();
  }

  /** One float32 rounded to the nearest bfloat16 (ties to even); NaN stays NaN. */
  static short narrow(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }
}
