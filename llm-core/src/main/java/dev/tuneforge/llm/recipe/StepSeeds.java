package dev.tuneforge.llm.recipe;

/**
 * The random seed of one optimizer step: a function of the run's seed and the step alone, so
 * dropout masks, NEFTune noise and PPO's rollouts are the same in a resumed run as in an
 * uninterrupted one.
 */
public final class StepSeeds {
  private StepSeeds() {}

  /** The seed of {@code step} (0-based) in a run seeded with {@code seed}. */
  public static long of(long seed, long step) {
    return seed * 1_000_003L + step;
  }

  /** Seeds libtorch's generator for {@code step}; returns the seed. */
  public static long apply(long seed, long step) {
    long stepSeed = of(seed, step);
    dev.tuneforge.llm.engine.Torch.engine().setRandomSeed((int) stepSeed);
    return stepSeed;
  }
}
