package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.recipe.StepListener;
import dev.tuneforge.llm.recipe.TrainerCheckpoint;
import dev.tuneforge.llm.recipe.TrainingStep;
import dev.tuneforge.llm.run.Outcome;
import dev.tuneforge.llm.run.RunHooks;
import dev.tuneforge.llm.run.Runs;
import dev.tuneforge.llm.run.TrainingJob;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    mixinStandardHelpOptions = true,
    name = "train",
    description =
        "Fine-tune locally from a JSON job spec (TRL/PEFT names): SFT, DPO or a reward model"
            + " (trainer), fully or with an adapter (method: full, lora, qlora, ia3, prompt,"
            + " prefix, adalora), with checkpoints and a progress bar; the result is a PEFT"
            + " adapter or a HF model in <output_dir>/final.")
final class TrainCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--config", required = true, description = "JSON job spec.")
  Path config;

  @Option(names = "--resume", description = "Continue from the newest checkpoint in output_dir.")
  boolean resume;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    TrainingJob job = TrainSpec.read(config);
    Path output = job.outputDir();
    Path resumeFrom = resume ? TrainerCheckpoint.latest(output).orElse(null) : null;
    if (resume && resumeFrom == null) {
      err.println("no checkpoint in " + output + "; starting from step 0");
    }
    Outcome outcome =
        Runs.run(job, resumeFrom, new RunHooks(new ProgressBar(err), dir -> {}, () -> false, out));
    err.println();
    out.println(
        "saved "
            + (outcome.adapter()
                ? "PEFT adapter"
                : job.method() instanceof dev.tuneforge.llm.run.MethodSettings.RewardModel
                    ? "reward model"
                    : "model")
            + " to "
            + outcome.finalDir());
    return 0;
  }

  /** One line redrawn in place: step, bar, loss, lr, tokens/s, ETA; evaluation on its own line. */
  static final class ProgressBar implements StepListener {
    private final PrintWriter err;

    ProgressBar(PrintWriter err) {
      this.err = err;
    }

    @Override
    public void onStep(TrainingStep p) {
      int width = 24;
      int filled = (int) Math.round(p.percentDone() / 100 * width);
      err.printf(
          "\rstep %d/%d [%s%s] %3.0f%% loss %.4f lr %.2e grad %.3f %,.0f tok/s ETA %d:%02d:%02d",
          p.step(),
          p.totalSteps(),
          "#".repeat(filled),
          ".".repeat(width - filled),
          p.percentDone(),
          p.loss(),
          p.learningRate(),
          p.gradNorm(),
          p.tokensPerSecond(),
          p.etaSeconds() / 3600,
          p.etaSeconds() / 60 % 60,
          p.etaSeconds() % 60);
      if (p.eval().containsKey("loss")) {
        err.printf("%n  eval loss %.4f", p.eval().get("loss"));
        if (p.eval().containsKey("mean_token_accuracy")) {
          err.printf(", token accuracy %.3f", p.eval().get("mean_token_accuracy"));
        }
        if (p.eval().containsKey("rewards/accuracies")) {
          err.printf(", reward accuracy %.3f", p.eval().get("rewards/accuracies"));
        }
        err.println();
      }
      err.flush();
    }
  }
}
