package dev.tuneforge.llm.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Tape;
import dev.tuneforge.llm.model.LlamaModel;

/**
 * The causal LM loss of {@link CausalLmLoss} computed and back-propagated a chunk of positions at a
 * time, so the float32 logits of a 128k-152k vocabulary never exist for the whole batch at once:
 * each chunk's LM head, log-softmax and gather are built, differentiated and freed before the next.
 * The final hidden states are a {@link Tape} leaf; once every chunk has added its share of their
 * gradient, the tape carries it down through the model. The loss is the mean over trained tokens of
 * the whole batch, as {@link CausalLmLoss#crossEntropy}, so gradients are equal.
 */
public final class ChunkedCrossEntropy {
  /** Float32 logits held at once, in values (64 MiB). */
  static final long LOGITS_PER_CHUNK = 16L << 20;

  private ChunkedCrossEntropy() {}

  /**
   * Forward and backward of the loss over final-normed {@code hidden} (batch, seqLen, hiddenSize)
   * with {@code labels} (batch, seqLen) INT64 (-100 untrained), the loss weighted by {@code scale};
   * must run while autograd records. Returns the mean loss and the trained-token count.
   */
  public static double[] backward(LlamaModel model, NDArray hidden, NDArray labels, float scale) {
    long chunk = Math.max(1, LOGITS_PER_CHUNK / model.config().vocabSize());
    return backward(model, hidden, labels, scale, chunk);
  }

  /**
   * Without a graph: the summed negative log-likelihood of the trained tokens, how many of them the
   * argmax predicts, and their count, a chunk of positions at a time.
   */
  public static double[] evaluate(LlamaModel model, NDArray hidden, NDArray labels) {
    NDManager scope = labels.getManager();
    long batch = hidden.getShape().get(0);
    long seqLen = hidden.getShape().get(1);
    NDArray ignore = scope.full(new Shape(batch, 1), CausalLmLoss.IGNORE, DataType.INT64);
    NDArray shifted = labels.get(":, 1:").concat(ignore, 1).reshape(batch * seqLen);
    NDArray rows = hidden.reshape(batch * seqLen, hidden.getShape().get(2));
    long chunk = Math.max(1, LOGITS_PER_CHUNK / model.config().vocabSize());
    double[] sums = new double[3];
    for (long from = 0; from < batch * seqLen; from += chunk) {
      long to = Math.min(batch * seqLen, from + chunk);
      try (NDManager local = scope.newSubManager()) {
        NDArray part = rows.get(from + ":" + to);
        part.attach(local);
        NDArray chunkLabels = shifted.get(from + ":" + to);
        chunkLabels.attach(local);
        NDArray logits = model.logits(part.expandDims(0)).squeeze(0); // (chunk, vocab)
        NDArray mask = chunkLabels.neq(CausalLmLoss.IGNORE).toType(DataType.FLOAT32, false);
        sums[0] -= CausalLmLoss.logProbsOf(logits, chunkLabels).mul(mask).sum().getFloat();
        NDArray hits = logits.argMax(-1).eq(chunkLabels).toType(DataType.FLOAT32, false);
        sums[1] += hits.mul(mask).sum().getFloat();
        sums[2] += mask.sum().getFloat();
      }
    }
    return sums;
  }

  /** As {@link #backward(LlamaModel, NDArray, NDArray, float)}, {@code chunk} positions at once. */
  public static double[] backward(
      LlamaModel model, NDArray hidden, NDArray labels, float scale, long chunk) {
    NDManager scope = labels.getManager();
    long batch = hidden.getShape().get(0);
    long seqLen = hidden.getShape().get(1);
    long hiddenSize = hidden.getShape().get(2);
    // Position t predicts label t+1: shift left, the last position of each row predicts nothing.
    NDArray ignore = scope.full(new Shape(batch, 1), CausalLmLoss.IGNORE, DataType.INT64);
    NDArray shifted =
        labels.get(":, 1:").concat(ignore, 1).reshape(batch * seqLen); // (batch * seqLen)
    NDArray trained = shifted.neq(CausalLmLoss.IGNORE);
    long count = trained.toType(DataType.INT64, false).sum().getLong();
    if (count == 0) {
      throw new IllegalArgumentException("the batch has no trained tokens: every label is -100");
    }
    NDArray leaf = Tape.cut(hidden).reshape(batch * seqLen, hiddenSize);
    long rows = batch * seqLen;
    double lossSum = 0;
    for (long from = 0; from < rows; from += chunk) {
      long to = Math.min(rows, from + chunk);
      try (NDManager local = scope.newSubManager()) {
        NDArray part = leaf.get(from + ":" + to); // (chunk, hiddenSize)
        part.attach(local);
        NDArray chunkLabels = shifted.get(from + ":" + to);
        chunkLabels.attach(local);
        NDArray logits = model.logits(part.expandDims(0)).squeeze(0); // (chunk, vocab) float32
        NDArray logProbs = CausalLmLoss.logProbsOf(logits, chunkLabels); // (chunk)
        NDArray mask = chunkLabels.neq(CausalLmLoss.IGNORE).toType(DataType.FLOAT32, false);
        NDArray negSum = logProbs.mul(mask).sum().neg();
        lossSum += negSum.getFloat();
        NDArray weight = local.full(new Shape(), scale / count);
        Autograd.backwardSegment(negSum.mul(weight), local.ones(new Shape()));
      }
    }
    Autograd.propagate();
    return new double[] {lossSum / count, count};
  }
}
