package dev.tuneforge.data.prepare;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a prepared dataset holds, for the manifest and the job's events: records in and per split,
 * token lengths (min/median/p95/max, mean, total and a power-of-two histogram), roles and turns of
 * chat data, label balance, duplicates removed and records dropped by reason.
 */
public record DatasetStats(
    int inputRecords,
    Map<String, Integer> splits,
    Tokens tokens,
    Map<String, Integer> tokenHistogram,
    Map<String, Integer> roles,
    double meanTurns,
    Map<String, Integer> labels,
    int exactDuplicatesRemoved,
    int nearDuplicatesRemoved,
    Map<String, Integer> dropped) {

  /** Token lengths of the kept records. */
  public record Tokens(long total, int min, int median, int p95, int max, double mean) {
    static Tokens of(int[] lengths) {
      if (lengths.length == 0) {
        return new Tokens(0, 0, 0, 0, 0, 0);
      }
      int[] sorted = lengths.clone();
      Arrays.sort(sorted);
      long total = 0;
      for (int length : sorted) {
        total += length;
      }
      return new Tokens(
          total,
          sorted[0],
          sorted[(sorted.length - 1) / 2],
          sorted[(int) Math.ceil(0.95 * sorted.length) - 1],
          sorted[sorted.length - 1],
          (double) total / sorted.length);
    }
  }

  /** Counts per power-of-two bucket: "<=16", "<=32", ..., "<=8192", ">8192". */
  static Map<String, Integer> histogram(int[] lengths) {
    Map<String, Integer> buckets = new LinkedHashMap<>();
    for (int bound = 16; bound <= 8192; bound *= 2) {
      buckets.put("<=" + bound, 0);
    }
    buckets.put(">8192", 0);
    for (int length : lengths) {
      String key = ">8192";
      for (int bound = 16; bound <= 8192; bound *= 2) {
        if (length <= bound) {
          key = "<=" + bound;
          break;
        }
      }
      buckets.merge(key, 1, Integer::sum);
    }
    buckets.values().removeIf(count -> count == 0);
    return buckets;
  }

  /** A line for the job's events, e.g. {@code 1800 records: train 1440, validation 180, ...}. */
  public String summary() {
    List<String> parts =
        splits.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList();
    return inputRecords
        + " records in; "
        + String.join(", ", parts)
        + "; tokens min "
        + tokens.min()
        + " median "
        + tokens.median()
        + " p95 "
        + tokens.p95()
        + " max "
        + tokens.max()
        + "; duplicates removed "
        + (exactDuplicatesRemoved + nearDuplicatesRemoved)
        + (dropped.isEmpty() ? "" : "; dropped " + dropped);
  }
}
