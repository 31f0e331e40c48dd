package dev.tuneforge.trainer.job;

import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.DatasetSplit;
import dev.tuneforge.proto.v1.JobSpec;

/**
 * How big a job is, from its spec and its prepared training split: optimizer steps per epoch and in
 * all (what the step limit is checked against), and the tokens it trained once it ran.
 */
final class JobSize {
  private JobSize() {}

  /** Optimizer steps of one pass over the training split (at least 1). */
  static long stepsPerEpoch(JobSpec spec, DatasetPrepared dataset) {
    var h = spec.getHyperparameters();
    long perStep =
        (long) (h.hasPerDeviceTrainBatchSize() ? h.getPerDeviceTrainBatchSize() : 8)
            * (h.hasGradientAccumulationSteps() ? h.getGradientAccumulationSteps() : 1);
    return Math.max(
        1, (long) Math.ceil((double) train(dataset).getExamples() / Math.max(1, perStep)));
  }

  /** The steps the job plans: max_steps, or the epochs' worth of steps per epoch. */
  static long plannedSteps(JobSpec spec, DatasetPrepared dataset) {
    var h = spec.getHyperparameters();
    if (h.hasMaxSteps() && h.getMaxSteps() > 0) {
      return h.getMaxSteps();
    }
    double epochs = h.hasNumTrainEpochs() ? h.getNumTrainEpochs() : 3;
    return (long) Math.ceil(stepsPerEpoch(spec, dataset) * epochs);
  }

  /**
   * OpenAI's {@code trained_tokens}: the training split's tokens (as data-service counted them,
   * through the chat template) times the epochs trained, {@code steps / steps per epoch}; so a job
   * of 3 epochs over a 10,000-token file trained 30,000.
   */
  static long trainedTokens(JobSpec spec, DatasetPrepared dataset, long steps) {
    return Math.round((double) train(dataset).getTokens() * steps / stepsPerEpoch(spec, dataset));
  }

  private static DatasetSplit train(DatasetPrepared dataset) {
    return dataset.getSplitsList().stream()
        .filter(split -> split.getName().equals("train"))
        .findFirst()
        .orElse(DatasetSplit.getDefaultInstance());
  }
}
