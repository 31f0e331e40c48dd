package dev.tuneforge.llm.checkpoint;

/**
 * GPT-2's byte-to-unicode table: each byte maps to a printable character so a byte-level BPE
 * vocabulary can be written as JSON strings. Printable Latin-1 bytes map to themselves; the other
 * 68 bytes map to U+0100 onwards in byte order (so a space, byte 32, is "Ġ").
 */
final class ByteLevel {
  private static final char[] TABLE = build();

  private ByteLevel() {}

  /** The vocabulary string of byte {@code b} (0..255). */
  static String tokenOf(int b) {
    return String.valueOf(TABLE[b]);
  }

  private static char[] build() {
    char[] table = new char[256];
    int next = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable =
          (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      table[b] = printable ? (char) b : (char) (256 + next++);
    }
    return table;
  }
}
