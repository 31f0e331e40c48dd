package dev.tuneforge.llm.run;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.adapter.Adapter;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.TrainingStep;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Supervised fine-tuning: reads the data through the model's tokenizer and chat template, builds
 * the model with the job's parameterisation, runs {@link SftRecipe} with checkpoints, and saves the
 * result under {@code <output_dir>/final}.
 */
final class SftRun {
  private SftRun() {}

  static Outcome run(TrainingJob job, MethodSettings.Sft sft, Path resumeFrom, RunHooks hooks) {
    DataSettings data = job.data();
    try (Tokenizer tokenizer = Tokenizer.load(job.model())) {
      SftDataset.Options options =
          new SftDataset.Options(
              data.maxSeqLength(),
              data.completionOnlyLoss(),
              data.assistantOnlyLoss(),
              job.template(tokenizer));
      SftDataset.Result train = SftDataset.read(job.trainFile(), tokenizer, options);
      List<TokenizedExample> eval =
          job.evalFile() == null
              ? List.of()
              : SftDataset.read(job.evalFile(), tokenizer, options).examples();
      hooks
          .log()
          .printf(
              "%s dataset: %d examples (%d truncated to %d tokens, %d without trained tokens dropped)%n",
              train.format(),
              train.examples().size(),
              train.truncated(),
              data.maxSeqLength(),
              train.droppedWithoutTrainedTokens());
      hooks.log().flush();
      Adapter adapter = job.parameterization().newAdapter(tokenizer, job.seed());
      Compute compute = sft.fp16() ? new Compute(job.device(), "float16") : job.compute();
      try (LlamaModel model =
          LlamaModel.load(job.model(), compute, job.parameterization().projections(adapter))) {
        if (adapter != null) {
          adapter.setTraining(true);
        }
        Map<String, NDArray> trainable = adapter == null ? model.weights() : adapter.parameters();
        SftRecipe recipe =
            new SftRecipe(model, trainable, job.trainer())
                .withOptimizer(job.optimizer())
                .withEvalPolicy(sft.evalPolicy())
                .withStopSignal(hooks.stop())
                .withGroupByLength(data.groupByLength())
                .withNeftune(sft.neftuneNoiseAlpha())
                .withGradientCheckpointing(sft.gradientCheckpointing())
                .withFp16(sft.fp16());
        if (data.packing()) {
          recipe.withPacking(data.maxSeqLength());
        }
        if (adapter != null) {
          recipe.withAdapterTraining(dev.tuneforge.llm.recipe.AdapterTraining.of(adapter));
        }
        List<TrainingStep> history =
            recipe.train(
                train.examples(),
                eval,
                hooks.listener(),
                Policy.checkpointing(job, adapter, hooks),
                resumeFrom);
        if (hooks.stop().getAsBoolean()) {
          return Outcome.stopped(Policy.finalDir(job), adapter != null);
        }
        Policy.saveFinal(job, model, adapter);
        TrainingStep last = history.get(history.size() - 1);
        return new Outcome(Policy.finalDir(job), adapter != null, last, metrics(last), false);
      }
    }
  }

  /** The figures a finished SFT run is announced with. */
  static Map<String, Double> metrics(TrainingStep p) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("train_loss", p.loss());
    if (p.evalLoss() != null) {
      metrics.put("valid_loss", p.evalLoss());
      metrics.put("valid_mean_token_accuracy", p.evalTokenAccuracy());
    }
    return metrics;
  }
}
