package dev.tuneforge.llm.run;

import java.nio.file.Path;

/** Runs a {@link TrainingJob}: one entry point for every method. */
public final class Runs {
  /** Best-of-N's ranking kept with the result, one line per prompt. */
  public static final String BEST_OF_N_SAMPLES = "best_of_n.jsonl";

  private Runs() {}

  /**
   * Trains {@code job}; with {@code resumeFrom} (a checkpoint directory of an earlier run of the
   * same job), continues so the remaining steps are those of an uninterrupted run.
   */
  public static Outcome run(TrainingJob job, Path resumeFrom, RunHooks hooks) {
    MethodSettings method = job.method();
    if (method instanceof MethodSettings.Sft sft) {
      return SftRun.run(job, sft, resumeFrom, hooks);
    }
    if (method instanceof MethodSettings.Dpo || method instanceof MethodSettings.RewardModel) {
      return PreferenceRun.run(job, resumeFrom, hooks);
    }
    if (method instanceof MethodSettings.Ppo ppo) {
      return RewardDrivenRun.ppo(job, ppo, resumeFrom, hooks);
    }
    if (method instanceof MethodSettings.SelfInstructData
        || method instanceof MethodSettings.ConstitutionalAiData) {
      return SynthRun.run(job, method, resumeFrom, hooks);
    }
    if (method instanceof MethodSettings.OnlineDpo online) {
      return RewardDrivenRun.onlineDpo(job, online, resumeFrom, hooks);
    }
    return RewardDrivenRun.bestOfN(job, (MethodSettings.BestOfN) method, resumeFrom, hooks);
  }
}
