package dev.tuneforge.llm.recipe;

/** Stands for a crash in the middle of a run (resume tests). */
public final class Crash extends RuntimeException {
  /** A listener that crashes the run when step {@code step} is reported. */
  public static StepListener at(long step) {
    return progress -> {
      if (progress.step() == step) {
        throw new Crash();
      }
    };
  }
}
