package dev.tuneforge.llm.rl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.preference.SequenceBatch;
import java.util.List;

/** Moves per-response-token values between padded (rows, width) tensors and ragged rows. */
final class RolloutTensors {
  private RolloutTensors() {}

  /**
   * (rows, maxResponse) INT64: for response token j of row r, the position whose logits predict it,
   * {@code promptLength - 1 + j}; past the response's end it repeats the last one (masked).
   */
  static NDArray responseIndex(SequenceBatch batch, NDManager scope) {
    int rows = batch.rows();
    int width = 0;
    for (int r = 0; r < rows; r++) {
      width = Math.max(width, batch.lengths()[r] - batch.promptLengths()[r]);
    }
    long[] index = new long[rows * width];
    for (int r = 0; r < rows; r++) {
      int length = batch.lengths()[r] - batch.promptLengths()[r];
      for (int j = 0; j < width; j++) {
        index[r * width + j] = batch.promptLengths()[r] - 1 + Math.min(j, length - 1);
      }
    }
    return scope.create(index, new Shape(rows, width));
  }

  static NDArray responseMask(SequenceBatch batch, int width, NDManager scope) {
    int rows = batch.rows();
    float[] mask = new float[rows * width];
    for (int r = 0; r < rows; r++) {
      int length = batch.lengths()[r] - batch.promptLengths()[r];
      for (int j = 0; j < length; j++) {
        mask[r * width + j] = 1;
      }
    }
    return scope.create(mask, new Shape(rows, width));
  }

  static double[][] unpad(NDArray padded, SequenceBatch batch) {
    float[] flat = padded.toType(DataType.FLOAT32, false).toFloatArray();
    int width = (int) padded.getShape().get(1);
    double[][] rows = new double[batch.rows()][];
    for (int r = 0; r < rows.length; r++) {
      int length = batch.lengths()[r] - batch.promptLengths()[r];
      rows[r] = new double[length];
      for (int j = 0; j < length; j++) {
        rows[r][j] = flat[r * width + j];
      }
    }
    return rows;
  }

  static NDArray padded(double[][] rows, List<Integer> indices, int width, NDManager m) {
    float[] flat = new float[indices.size() * width];
    for (int i = 0; i < indices.size(); i++) {
      double[] row = rows[indices.get(i)];
      for (int j = 0; j < row.length; j++) {
        flat[i * width + j] = (float) row[j];
      }
    }
    return m.create(flat, new Shape(indices.size(), width));
  }
}
