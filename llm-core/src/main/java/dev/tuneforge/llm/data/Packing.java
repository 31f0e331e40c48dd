package dev.tuneforge.llm.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Packs short examples into rows of at most {@code rowLength} tokens, in order, without
 * cross-contamination: each example keeps its own segment id, so {@code LlamaModel.forwardPacked}
 * restarts positions and keeps attention inside it, and the first token of a segment is never a
 * target of the previous one.
 */
public final class Packing {
  private Packing() {}

  /**
   * One packed row.
   *
   * @param segments segment id per token, 1.. in row order
   * @param trained trained mask, false on each segment's first token
   */
  public record Row(int[] ids, int[] segments, boolean[] trained) {}

  /**
   * Greedy, order-preserving packing; an example longer than the row gets a row of its own, cut.
   */
  public static List<Row> pack(List<TokenizedExample> examples, int rowLength) {
    List<Row> rows = new ArrayList<>();
    List<TokenizedExample> current = new ArrayList<>();
    int used = 0;
    for (TokenizedExample example : examples) {
      int length = Math.min(example.ids().length, rowLength);
      if (used + length > rowLength && !current.isEmpty()) {
        rows.add(row(current, rowLength));
        current.clear();
        used = 0;
      }
      current.add(example);
      used += length;
    }
    if (!current.isEmpty()) {
      rows.add(row(current, rowLength));
    }
    return rows;
  }

  private static Row row(List<TokenizedExample> examples, int rowLength) {
    int total = Math.min(rowLength, examples.stream().mapToInt(e -> e.ids().length).sum());
    int[] ids = new int[total];
    int[] segments = new int[total];
    boolean[] trained = new boolean[total];
    int at = 0;
    for (int s = 0; s < examples.size() && at < total; s++) {
      TokenizedExample example = examples.get(s);
      for (int t = 0; t < example.ids().length && at < total; t++, at++) {
        ids[at] = example.ids()[t];
        segments[at] = s + 1;
        trained[at] = t > 0 && example.trained()[t];
      }
    }
    return new Row(ids, segments, trained);
  }
}
