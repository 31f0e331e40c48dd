package dev.tuneforge.data.prepare;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Near-duplicate detection with MinHash (Broder, 1997) and banded LSH: each text becomes the set of
 * its word 3-grams, summarised by 128 min-hashes; texts sharing a band of 8 hashes are compared,
 * and one whose estimated Jaccard similarity to an earlier kept text reaches the threshold is a
 * near duplicate. Seeded, so the same input drops the same records.
 */
public final class NearDuplicates {
  static final int HASHES = 128;
  static final int ROWS_PER_BAND = 8;
  private final double threshold;
  private final long[] multipliers = new long[HASHES];
  private final long[] offsets = new long[HASHES];
  private final List<Map<Long, List<Integer>>> bands = new ArrayList<>();
  private final List<long[]> kept = new ArrayList<>();

  /**
   * @param threshold Jaccard similarity at or above which a text is a near duplicate, in (0, 1]
   */
  public NearDuplicates(double threshold, long seed) {
    if (!(threshold > 0 && threshold <= 1)) {
      throw new IllegalArgumentException(
          "near_duplicate_threshold must be in (0, 1] but was " + threshold);
    }
    this.threshold = threshold;
    java.util.Random random = new java.util.Random(seed);
    for (int i = 0; i < HASHES; i++) {
      multipliers[i] = random.nextLong() | 1;
      offsets[i] = random.nextLong();
    }
    for (int b = 0; b < HASHES / ROWS_PER_BAND; b++) {
      bands.add(new HashMap<>());
    }
  }

  /** True when {@code text} nearly duplicates a text kept before; otherwise keeps it. */
  public boolean isDuplicate(String text) {
    long[] signature = signature(text);
    Set<Integer> candidates = new HashSet<>();
    for (int b = 0; b < bands.size(); b++) {
      List<Integer> bucket = bands.get(b).get(bandKey(signature, b));
      if (bucket != null) {
        candidates.addAll(bucket);
      }
    }
    for (int candidate : candidates) {
      if (similarity(signature, kept.get(candidate)) >= threshold) {
        return true;
      }
    }
    int index = kept.size();
    kept.add(signature);
    for (int b = 0; b < bands.size(); b++) {
      bands.get(b).computeIfAbsent(bandKey(signature, b), k -> new ArrayList<>()).add(index);
    }
    return false;
  }

  /** Estimated Jaccard similarity: the share of equal min-hashes. */
  static double similarity(long[] a, long[] b) {
    int equal = 0;
    for (int i = 0; i < a.length; i++) {
      equal += a[i] == b[i] ? 1 : 0;
    }
    return (double) equal / a.length;
  }

  long[] signature(String text) {
    String[] words = text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+");
    List<String> tokens = new ArrayList<>();
    for (String word : words) {
      if (!word.isEmpty()) {
        tokens.add(word);
      }
    }
    long[] signature = new long[HASHES];
    java.util.Arrays.fill(signature, Long.MAX_VALUE);
    int shingles = Math.max(1, tokens.size() - 2);
    for (int s = 0; s < shingles; s++) {
      String shingle = String.join(" ", tokens.subList(s, Math.min(tokens.size(), s + 3)));
      long base = fnv(shingle);
      for (int i = 0; i < HASHES; i++) {
        long h = mix(base * multipliers[i] + offsets[i]);
        if (h < signature[i]) {
          signature[i] = h;
        }
      }
    }
    return signature;
  }

  private static long bandKey(long[] signature, int band) {
    long key = 1469598103934665603L;
    for (int r = band * ROWS_PER_BAND; r < (band + 1) * ROWS_PER_BAND; r++) {
      key = mix(key ^ signature[r]);
    }
    return key;
  }

  private static long fnv(String text) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b;
      hash *= 0x100000001b3L;
    }
    return hash;
  }

  /** SplitMix64's finaliser. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
