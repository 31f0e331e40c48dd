package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.loss.CausalLmLoss;
import dev.tuneforge.llm.model.LlamaModel;

/**
 * Summed response log-probabilities of each row of a {@link SequenceBatch}, from the final-normed
 * hidden states, a chunk of response positions at a time: the LM head's float32 logits of a
 * 128k-152k vocabulary exist for at most {@link #LOGITS_PER_CHUNK} values at once and never for the
 * prompt positions, where DPO's whole-batch logits took rows × length × vocabulary. The backward
 * recomputes each chunk with its graph, seeded with d loss / d sum of its row, then lets the tape
 * carry the hidden states' gradient down through the model; the gradients equal the whole-batch
 * ones.
 */
final class SequenceLogProbs {
  /** Float32 logits held at once, in values (64 MiB). */
  static final long LOGITS_PER_CHUNK = 16L << 20;

  private SequenceLogProbs() {}

  /** Without a graph: each row's summed log-probability of its response tokens. */
  static float[] sums(LlamaModel model, NDArray hidden, SequenceBatch batch) {
    return sums(model, hidden, batch, chunk(model));
  }

  /** As above, {@code chunk} positions at once. */
  static float[] sums(LlamaModel model, NDArray hidden, SequenceBatch batch, long chunk) {
    float[] sums = new float[batch.rows()];
    forEachChunk(
        model,
        hidden,
        batch,
        chunk,
        (row, chunkSum) -> {
          sums[row] += chunkSum.getFloat();
        });
    return sums;
  }

  /**
   * While recording: adds {@code gradient[row]} × d(sum of row)/d(parameters) to every trained
   * parameter, through {@code hidden} (a tape leaf, {@code engine.Tape#cut}), then propagates the
   * tape.
   */
  static void backward(LlamaModel model, NDArray hidden, SequenceBatch batch, float[] gradient) {
    backward(model, hidden, batch, gradient, chunk(model));
  }

  /** As above, {@code chunk} positions at once. */
  static void backward(
      LlamaModel model, NDArray hidden, SequenceBatch batch, float[] gradient, long chunk) {
    forEachChunk(
        model,
        hidden,
        batch,
        chunk,
        (row, chunkSum) -> {
          if (gradient[row] != 0) {
            NDManager local = chunkSum.getManager();
            Autograd.backwardSegment(chunkSum, local.full(new Shape(), gradient[row]));
          }
        });
    Autograd.propagate();
  }

  private interface ChunkSink {
    void accept(int row, NDArray chunkSum);
  }

  private static long chunk(LlamaModel model) {
    return Math.max(1, LOGITS_PER_CHUNK / model.config().vocabSize());
  }

  private static void forEachChunk(
      LlamaModel model, NDArray hidden, SequenceBatch batch, long chunk, ChunkSink sink) {
    NDManager scope = hidden.getManager();
    for (int row = 0; row < batch.rows(); row++) {
      // Position t predicts token t + 1: the response's tokens are predicted from the position
      // before each of them through the row's last real token.
      int first = batch.promptLengths()[row] - 1;
      int end = batch.lengths()[row] - 1;
      for (long from = Math.max(0, first); from < end; from += chunk) {
        long to = Math.min(end, from + chunk);
        try (NDManager local = scope.newSubManager()) {
          NDArray part = hidden.get(row + ", " + from + ":" + to + ", :"); // (n, hidden)
          part.attach(local);
          long[] labels = new long[(int) (to - from)];
          float[] mask = new float[labels.length];
          for (int i = 0; i < labels.length; i++) {
            int index = row * batch.maxLen() + (int) from + i + 1;
            labels[i] = batch.ids()[index];
            mask[i] = batch.response()[index];
          }
          NDArray logits = model.logits(part.expandDims(0)).squeeze(0); // (n, vocab) float32
          NDArray logProbs = CausalLmLoss.logProbsOf(logits, local.create(labels));
          NDArray chunkSum = logProbs.mul(local.create(mask).toType(DataType.FLOAT32, false)).sum();
          sink.accept(row, chunkSum);
        }
      }
    }
  }
}
