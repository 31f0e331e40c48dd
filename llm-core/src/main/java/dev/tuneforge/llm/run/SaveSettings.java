package dev.tuneforge.llm.run;

/**
 * Checkpoints, with transformers' names: one every {@code saveSteps} optimizer steps (0: none), at
 * most {@code saveTotalLimit} kept (0: all).
 */
public record SaveSettings(int saveSteps, int saveTotalLimit) {
  public static final SaveSettings NONE = new SaveSettings(0, 0);

  public SaveSettings {
    if (saveSteps < 0 || saveTotalLimit < 0) {
      throw new IllegalArgumentException(
          "save_steps and save_total_limit must be >= 0 but were "
              + saveSteps
              + " and "
              + saveTotalLimit);
    }
  }
}
