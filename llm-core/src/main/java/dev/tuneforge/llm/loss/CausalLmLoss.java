package dev.tuneforge.llm.loss;

import ai.djl.ndarray.NDArray;

/**
 * Next-token cross-entropy with ignored positions, as transformers computes it: logits at position
 * t predict label t+1; labels equal to {@link #IGNORE} (-100) are not trained; the loss is the mean
 * over trained tokens.
 */
public final class CausalLmLoss {
  /** The label of a position that is not trained. */
  public static final long IGNORE = -100;

  private CausalLmLoss() {}

  /** Per-position log p(label) for (batch, seqLen, vocab) logits and (batch, seqLen) labels. */
  public static NDArray logProbsOf(NDArray logits, NDArray labels) {
    NDArray safe = labels.maximum(labels.zerosLike()); // -100 -> 0, masked out later
    return logits.logSoftmax(-1).gather(safe.expandDims(-1), -1).squeeze(-1);
  }

  /** Result of one loss evaluation: the mean loss (scalar) and what it was averaged over. */
  public record Result(NDArray loss, NDArray tokenLogProbs, NDArray trained, long trainedTokens) {}

  /**
   * @param logits (batch, seqLen, vocab)
   * @param labels (batch, seqLen) INT64: the input ids with untrained positions set to -100
   */
  public static Result crossEntropy(NDArray logits, NDArray labels) {
    NDArray shiftedLogits = logits.get(":, :-1, :"); // (batch, seqLen-1, vocab)
    NDArray shiftedLabels = labels.get(":, 1:"); // (batch, seqLen-1)
    NDArray trained = shiftedLabels.neq(IGNORE).toType(logits.getDataType(), false);
    NDArray tokenLogProbs = logProbsOf(shiftedLogits, shiftedLabels);
    long count = (long) trained.sum().getFloat();
    if (count == 0) {
      throw new IllegalArgumentException("the batch has no trained tokens: every label is -100");
    }
    NDArray loss = tokenLogProbs.mul(trained).sum().neg().div(trained.sum());
    return new Result(loss, tokenLogProbs, trained, count);
  }
}
