package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.Nf4Linear;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.TrainerCheckpoint;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    mixinStandardHelpOptions = true,
    name = "train",
    description =
        "Fine-tune locally from a JSON job spec (TRL/PEFT names): full, lora or qlora SFT, with"
            + " checkpoints and a progress bar; the result is a PEFT adapter or a HF model in"
            + " <output_dir>/final.")
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
    TrainSpec job = TrainSpec.read(config);
    Path modelDir = Path.of(job.model);
    Path output = Path.of(job.outputDir);
    try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
      ChatTemplate template =
          job.chatTemplate != null
              ? ChatTemplate.builtIn(job.chatTemplate)
              : ChatTemplate.fromModel(modelDir, tokenizer.config(), "default").orElse(null);
      SftDataset.Options options =
          new SftDataset.Options(
              job.maxSeqLength, job.completionOnlyLoss, job.assistantOnlyLoss, template);
      SftDataset.Result train = SftDataset.read(Path.of(job.trainFile), tokenizer, options);
      List<TokenizedExample> eval =
          job.evalFile == null
              ? List.of()
              : SftDataset.read(Path.of(job.evalFile), tokenizer, options).examples();
      out.printf(
          "%s dataset: %d examples (%d truncated to %d tokens, %d without trained tokens dropped)%n",
          train.format(),
          train.examples().size(),
          train.truncated(),
          job.maxSeqLength,
          train.droppedWithoutTrainedTokens());
      LoraAdapter adapter =
          job.method.equals("full") ? null : LoraAdapter.create(job.loraSettings(), job.seed);
      LlamaModel.Projections base =
          job.method.equals("qlora")
              ? Nf4Linear.projections(64, job.bnb4bitUseDoubleQuant)
              : LlamaModel.Projections.DENSE;
      try (LlamaModel model =
          LlamaModel.load(
              modelDir,
              job.fp16 ? new Compute("cpu", "float16") : Compute.CPU_FLOAT32,
              adapter == null ? base : adapter.projections(base))) {
        if (adapter != null) {
          adapter.setTraining(true);
        }
        Map<String, ai.djl.ndarray.NDArray> trainable =
            adapter == null ? model.weights() : adapter.parameters();
        Path resumeFrom = resume ? TrainerCheckpoint.latest(output).orElse(null) : null;
        if (resume && resumeFrom == null) {
          err.println("no checkpoint in " + output + "; starting from step 0");
        }
        SftRecipe recipe =
            new SftRecipe(model, trainable, job.settings()).withEvalPolicy(job.evalPolicy());
        if (job.packing) {
          recipe.withPacking(job.maxSeqLength);
        }
        recipe
            .withGroupByLength(job.groupByLength)
            .withNeftune(job.neftuneNoiseAlpha)
            .withGradientCheckpointing(job.gradientCheckpointing)
            .withFp16(job.fp16);
        recipe.train(
            train.examples(),
            eval,
            new ProgressBar(err),
            new SftRecipe.Checkpointing(output, job.saveSteps, job.saveTotalLimit),
            resumeFrom);
        err.println();
        Path last = output.resolve("final");
        if (adapter != null) {
          adapter.setTraining(false);
          adapter.save(last, job.model);
        } else {
          model.save(last);
          MergeCommand.copyTokenizerFiles(modelDir, last);
        }
        out.println("saved " + (adapter != null ? "PEFT adapter" : "model") + " to " + last);
      }
    }
    return 0;
  }

  /** One line redrawn in place: step, bar, loss, lr, tokens/s, ETA; evaluation on its own line. */
  static final class ProgressBar implements SftRecipe.Listener {
    private final PrintWriter err;

    ProgressBar(PrintWriter err) {
      this.err = err;
    }

    @Override
    public void onProgress(SftRecipe.Progress p) {
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
      if (p.evalLoss() != null) {
        err.printf(
            "%n  eval loss %.4f, token accuracy %.3f%n", p.evalLoss(), p.evalTokenAccuracy());
      }
      err.flush();
    }
  }
}
