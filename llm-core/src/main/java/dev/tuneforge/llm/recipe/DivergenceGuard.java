package dev.tuneforge.llm.recipe;

import java.nio.file.Path;

/**
 * Stops a run whose loss or gradient norm is no longer finite, with one message for every method:
 * the step, the figures, the learning rate, the last checkpoint to resume from, and what to lower.
 */
public final class DivergenceGuard {
  private DivergenceGuard() {}

  /**
   * Throws when {@code loss} or {@code gradNorm} is NaN or infinite.
   *
   * @param step the 1-based step that produced them
   * @param checkpointing where checkpoints of this run go (the newest one is named)
   */
  public static void check(
      long step, double loss, double gradNorm, double lr, SftRecipe.Checkpointing checkpointing) {
    if (!Double.isFinite(loss) || !Double.isFinite(gradNorm)) {
      throw diverged(step, loss, gradNorm, lr, checkpointing);
    }
  }

  /** The error for a run that diverged at {@code step} (for a caller with its own condition). */
  public static IllegalStateException diverged(
      long step, double loss, double gradNorm, double lr, SftRecipe.Checkpointing checkpointing) {
    Path outputDir = checkpointing == null ? null : checkpointing.outputDir();
    String last =
        outputDir == null
            ? "none"
            : TrainerCheckpoint.latest(outputDir).map(Path::toString).orElse("none");
    return new IllegalStateException(
        "training diverged at step "
            + step
            + " (loss "
            + loss
            + ", grad norm "
            + gradNorm
            + ", learning rate "
            + lr
            + "); last good checkpoint: "
            + last
            + "; lower learning_rate or max_grad_norm");
  }
}
