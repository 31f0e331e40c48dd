package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.recipe.OptimizerSettings;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import dev.tuneforge.llm.run.DataSettings;
import dev.tuneforge.llm.run.MethodSettings;
import dev.tuneforge.llm.run.Outcome;
import dev.tuneforge.llm.run.Parameterization;
import dev.tuneforge.llm.run.RunHooks;
import dev.tuneforge.llm.run.Runs;
import dev.tuneforge.llm.run.SaveSettings;
import dev.tuneforge.llm.run.TrainingJob;
import dev.tuneforge.llm.synth.ConstitutionalAi;
import dev.tuneforge.llm.synth.SelfInstruct;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./tuneforge model synth}: training data written by a model, through the same run layer as
 * training. The result in {@code <out>/final/} is JSONL the train command and the API take, with
 * {@code stats.json} and the manifest written last; run the same command again to continue a run
 * that was cut off.
 */
@Command(
    name = "synth",
    mixinStandardHelpOptions = true,
    description = "Generate training data with a model: Self-Instruct or Constitutional AI.",
    subcommands = {
      SynthCommand.SelfInstructCommand.class,
      SynthCommand.ConstitutionalCommand.class
    })
final class SynthCommand {
  /** What both generators take. */
  static final class Common {
    @Option(names = "--model", required = true, description = "Hugging Face model directory.")
    Path model;

    @Option(names = "--out", required = true, description = "Output directory (state, final/).")
    Path out;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "Per completion.")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0.7", description = "0 for greedy.")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling.")
    double topP;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling and example draws.")
    long seed;

    MethodSettings.Sampling sampling() {
      return new MethodSettings.Sampling(maxNewTokens, temperature, topP);
    }

    /** A job of {@code method} on {@code data}: checkpoints every round or batch. */
    TrainingJob job(Path data, MethodSettings method) {
      return new TrainingJob(
          model,
          data,
          null,
          out,
          "cpu",
          seed,
          null,
          new Parameterization.Full(),
          SftSettings.forSteps(1, 1, 1e-4, seed),
          OptimizerSettings.DEFAULT,
          new DataSettings(1024, -1, false, true, false, false),
          new SaveSettings(1, 0),
          method);
    }

    int run(PrintWriter out, PrintWriter err, Path data, MethodSettings method, String file) {
      StepListener progress =
          step -> {
            err.printf("\r%d/%d %s", step.step(), step.totalSteps(), step.figures());
            err.flush();
          };
      Outcome outcome =
          Runs.run(job(data, method), null, new RunHooks(progress, dir -> {}, () -> false, out));
      err.println();
      out.println("wrote " + outcome.finalDir().resolve(file) + " and stats.json");
      return 0;
    }
  }

  @Command(
      name = "self-instruct",
      mixinStandardHelpOptions = true,
      description =
          "Self-Instruct: new instructions from seed tasks (Alpaca JSONL), kept when ROUGE-L to"
              + " the pool is below the threshold, then their input and output.")
  static final class SelfInstructCommand implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;
    @picocli.CommandLine.Mixin Common common;

    @Option(names = "--seeds", required = true, description = "Seed tasks, Alpaca JSONL.")
    Path seeds;

    @Option(names = "--target-count", defaultValue = "100", description = "Tasks to keep.")
    int targetCount;

    @Option(names = "--max-rounds", defaultValue = "50", description = "Rounds at most.")
    int maxRounds;

    @Option(names = "--rouge-threshold", defaultValue = "0.7", description = "ROUGE-L F limit.")
    double rougeThreshold;

    @Override
    public Integer call() {
      SelfInstruct.Settings d = SelfInstruct.Settings.defaults(targetCount);
      SelfInstruct.Settings settings =
          new SelfInstruct.Settings(
              targetCount,
              maxRounds,
              d.promptsPerRound(),
              d.examplesPerPrompt(),
              d.machineExamples(),
              rougeThreshold,
              d.minWords(),
              d.maxWords(),
              d.blacklist(),
              common.seed);
      return common.run(
          spec.commandLine().getOut(),
          spec.commandLine().getErr(),
          seeds,
          new MethodSettings.SelfInstructData(settings, common.sampling()),
          SelfInstruct.OUTPUT);
    }
  }

  @Command(
      name = "constitutional-ai",
      mixinStandardHelpOptions = true,
      description =
          "Constitutional AI: answer each prompt (prompt-only JSONL), critique the answer under a"
              + " principle, revise it; SFT and preference files with each chain.")
  static final class ConstitutionalCommand implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;
    @picocli.CommandLine.Mixin Common common;

    @Option(names = "--prompts", required = true, description = "Prompt-only JSONL.")
    Path prompts;

    @Option(names = "--batch-size", defaultValue = "8", description = "Prompts per batch.")
    int batchSize;

    @Override
    public Integer call() {
      List<ConstitutionalAi.Principle> constitution = ConstitutionalAi.DEFAULT_CONSTITUTION;
      return common.run(
          spec.commandLine().getOut(),
          spec.commandLine().getErr(),
          prompts,
          new MethodSettings.ConstitutionalAiData(constitution, batchSize, common.sampling()),
          ConstitutionalAi.PREFERENCE_OUTPUT);
    }
  }
}
