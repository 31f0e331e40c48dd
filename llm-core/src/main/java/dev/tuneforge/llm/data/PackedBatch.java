package dev.tuneforge.llm.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.loss.CausalLmLoss;
import java.util.Arrays;
import java.util.List;

/** Packed rows as arrays: ids, segment ids (0 = padding) and labels (-100 where not trained). */
public record PackedBatch(
    long[] ids, long[] segments, long[] labels, int rows, int rowLength, int trainedTokens) {

  public static PackedBatch of(List<Packing.Row> packed, int padId) {
    int rows = packed.size();
    int rowLength = packed.stream().mapToInt(r -> r.ids().length).max().orElse(0);
    long[] ids = new long[rows * rowLength];
    long[] segments = new long[rows * rowLength];
    long[] labels = new long[rows * rowLength];
    Arrays.fill(ids, padId);
    Arrays.fill(labels, CausalLmLoss.IGNORE);
    int trained = 0;
    for (int r = 0; r < rows; r++) {
      Packing.Row row = packed.get(r);
      for (int t = 0; t < row.ids().length; t++) {
        ids[r * rowLength + t] = row.ids()[t];
        segments[r * rowLength + t] = row.segments()[t];
        if (row.trained()[t]) {
          labels[r * rowLength + t] = row.ids()[t];
          trained++;
        }
      }
    }
    return new PackedBatch(ids, segments, labels, rows, rowLength, trained);
  }

  public NDArray idsArray(NDManager manager) {
    return manager.create(ids, new Shape(rows, rowLength));
  }

  public NDArray segmentsArray(NDManager manager) {
    return manager.create(segments, new Shape(rows, rowLength));
  }

  public NDArray labelsArray(NDManager manager) {
    return manager.create(labels, new Shape(rows, rowLength));
  }
}
