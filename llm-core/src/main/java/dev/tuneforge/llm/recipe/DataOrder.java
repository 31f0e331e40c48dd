package dev.tuneforge.llm.recipe;

import dev.tuneforge.llm.data.Packing;
import dev.tuneforge.llm.data.TokenizedExample;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The order examples are drawn in: each epoch is a permutation seeded by (seed, epoch), read batch
 * by batch; an incomplete tail batch is skipped, as with drop_last.
 */
public final class DataOrder {
  private final List<?> examples;
  private final long seed;
  private final int megaBatch;
  private List<?> permutation;
  private long epoch = -1;
  private int cursor;

  /**
   * @param megaBatch 0 for plain shuffling, else the size of length-sorted mega-batches
   */
  public DataOrder(List<?> examples, long seed, int megaBatch) {
    this.examples = examples;
    this.seed = seed;
    this.megaBatch = megaBatch;
  }

  public List<?> next(int batchSize) {
    if (permutation == null || cursor + batchSize > permutation.size()) {
      seek(epoch + 1, 0);
    }
    List<?> batch = permutation.subList(cursor, cursor + batchSize);
    cursor += batchSize;
    return batch;
  }

  public void seek(long epoch, int cursor) {
    this.epoch = epoch;
    this.cursor = cursor;
    List<Object> shuffled = new ArrayList<>(examples);
    Collections.shuffle(shuffled, new Random(seed * 31 + epoch));
    if (megaBatch > 0) {
      for (int from = 0; from < shuffled.size(); from += megaBatch) {
        shuffled
            .subList(from, Math.min(shuffled.size(), from + megaBatch))
            .sort(java.util.Comparator.comparingInt(DataOrder::length).reversed());
      }
    }
    this.permutation = shuffled;
  }

  static int length(Object unit) {
    return unit instanceof TokenizedExample example
        ? example.ids().length
        : ((Packing.Row) unit).ids().length;
  }

  public long epoch() {
    return epoch;
  }

  public int cursor() {
    return cursor;
  }
}
