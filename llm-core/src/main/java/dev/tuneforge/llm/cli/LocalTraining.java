package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Supervised fine-tuning of one {@link TrainSpec}: reads the data through the model's tokenizer and
 * chat template, builds full, LoRA or QLoRA training, runs {@link SftRecipe} with checkpoints, and
 * saves the result under {@code <output_dir>/final} (a PEFT adapter or a Hugging Face model). The
 * command line and the trainer service both run jobs through here.
 */
public final class LocalTraining {
  /**
   * What the caller sees while it runs.
   *
   * @param onCheckpoint each complete checkpoint directory; for an adapter it holds the PEFT
   *     adapter as of that step in {@code adapter/}
   * @param stop answers true to stop before the next step (a cancel)
   * @param log dataset and result lines
   */
  public record Hooks(
      SftRecipe.Listener listener,
      Consumer<Path> onCheckpoint,
      BooleanSupplier stop,
      PrintWriter log) {}

  /** Where the result went, and the run's log history. */
  public record Outcome(
      Path finalDir, boolean adapter, List<SftRecipe.Progress> history, boolean stopped) {}

  private LocalTraining() {}

  public static Outcome run(TrainSpec job, Path resumeFrom, Hooks hooks) {
    Path modelDir = Path.of(job.model);
    Path output = Path.of(job.outputDir);
    try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
      ChatTemplate template = job.template(tokenizer);
      SftDataset.Options options =
          new SftDataset.Options(
              job.maxSeqLength, job.completionOnlyLoss, job.assistantOnlyLoss, template);
      SftDataset.Result train = SftDataset.read(Path.of(job.trainFile), tokenizer, options);
      List<TokenizedExample> eval =
          job.evalFile == null
              ? List.of()
              : SftDataset.read(Path.of(job.evalFile), tokenizer, options).examples();
      hooks
          .log()
          .printf(
              "%s dataset: %d examples (%d truncated to %d tokens, %d without trained tokens dropped)%n",
              train.format(),
              train.examples().size(),
              train.truncated(),
              job.maxSeqLength,
              train.droppedWithoutTrainedTokens());
      hooks.log().flush();
      dev.tuneforge.llm.adapter.Adapter adapter = job.newAdapter(tokenizer);
      try (LlamaModel model =
          LlamaModel.load(
              modelDir,
              job.fp16 ? new Compute(job.device, "float16") : job.compute(),
              job.projections(adapter))) {
        if (adapter != null) {
          adapter.setTraining(true);
        }
        Map<String, ai.djl.ndarray.NDArray> trainable =
            adapter == null ? model.weights() : adapter.parameters();
        SftRecipe recipe =
            new SftRecipe(model, trainable, job.settings())
                .withEvalPolicy(job.evalPolicy())
                .withStopSignal(hooks.stop());
        if (job.packing) {
          recipe.withPacking(job.maxSeqLength);
        }
        if (adapter != null) {
          adapter.trainingHooks().ifPresent(recipe::withTrainingHooks);
        }
        recipe
            .withGroupByLength(job.groupByLength)
            .withNeftune(job.neftuneNoiseAlpha)
            .withGradientCheckpointing(job.gradientCheckpointing)
            .withFp16(job.fp16);
        Consumer<Path> onSaved =
            dir -> {
              if (adapter != null) {
                adapter.save(dir.resolve("adapter"), job.model);
              }
              hooks.onCheckpoint().accept(dir);
            };
        List<SftRecipe.Progress> history =
            recipe.train(
                train.examples(),
                eval,
                hooks.listener(),
                new SftRecipe.Checkpointing(output, job.saveSteps, job.saveTotalLimit, onSaved),
                resumeFrom);
        boolean stopped = hooks.stop().getAsBoolean();
        Path last = output.resolve("final");
        if (!stopped) {
          if (adapter != null) {
            adapter.setTraining(false);
            adapter.save(last, job.model);
          } else {
            model.save(last);
            try {
              MergeCommand.copyTokenizerFiles(modelDir, last);
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException("cannot copy the tokenizer to " + last, e);
            }
          }
        }
        return new Outcome(last, adapter != null, history, stopped);
      }
    }
  }
}
