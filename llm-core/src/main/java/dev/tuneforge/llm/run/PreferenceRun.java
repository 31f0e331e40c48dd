package dev.tuneforge.llm.run;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.adapter.Adapter;
import dev.tuneforge.llm.data.PreferenceDataset;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.preference.DpoTrainer;
import dev.tuneforge.llm.preference.PreferencePair;
import dev.tuneforge.llm.preference.Reference;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.preference.RewardTrainer;
import dev.tuneforge.llm.recipe.AdapterTraining;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.TrainingStep;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DPO and reward-model training on preference JSONL ({@code prompt, chosen, rejected}, plain or
 * conversational). DPO with an adapter uses the policy with the adapter disabled as its reference,
 * full DPO a frozen copy; a reward model gets a score head and is saved in Hugging Face
 * sequence-classification layout (an adapter is merged into it first), or, with prompt or prefix
 * tuning or over an NF4 base, which do not merge, as a PEFT sequence-classification adapter ({@code
 * RewardAdapter}).
 */
final class PreferenceRun {
  private PreferenceRun() {}

  static Outcome run(TrainingJob job, Path resumeFrom, RunHooks hooks) {
    try (Tokenizer tokenizer = Tokenizer.load(job.model())) {
      PreferenceDataset.Options options =
          new PreferenceDataset.Options(
              job.data().promptLimit(), job.data().maxSeqLength(), job.template(tokenizer));
      List<PreferencePair> train = read(job.trainFile(), tokenizer, options);
      List<PreferencePair> eval =
          job.evalFile() == null ? List.of() : read(job.evalFile(), tokenizer, options);
      hooks.log().printf("preference dataset: %d pairs%n", train.size());
      hooks.log().flush();
      Adapter adapter = job.parameterization().newAdapter(tokenizer, job.seed());
      try (LlamaModel model =
          LlamaModel.load(
              job.model(), job.compute(), job.parameterization().projections(adapter))) {
        SftRecipe.Checkpointing checkpointing = Policy.checkpointing(job, adapter, hooks);
        if (job.method() instanceof MethodSettings.Dpo dpo) {
          return dpo(
              job,
              dpo,
              model,
              adapter,
              train,
              eval,
              hooks.listener(),
              checkpointing,
              resumeFrom,
              hooks);
        }
        MethodSettings.RewardModel rm = (MethodSettings.RewardModel) job.method();
        try (RewardModel reward = RewardModel.fromCausalLm(model, job.seed())) {
          Map<String, NDArray> trainable;
          if (adapter == null) {
            trainable = reward.fullParameters();
          } else {
            trainable = new LinkedHashMap<>(adapter.parameters());
            trainable.put(RewardModel.SCORE, reward.head());
          }
          List<TrainingStep> history =
              new RewardTrainer(reward, trainable, job.trainer(), rm.centerRewardsCoefficient())
                  .withOptimizer(job.optimizer())
                  .withStopSignal(hooks.stop())
                  .withAdapterTraining(AdapterTraining.of(adapter))
                  .train(train, eval, hooks.listener(), checkpointing, resumeFrom);
          if (hooks.stop().getAsBoolean()) {
            return Outcome.stopped(Policy.finalDir(job), false);
          }
          // RewardModel.close closes the backbone; the model's own close is a no-op then.
          boolean nf4 =
              job.parameterization() instanceof Parameterization.Adapted adapted
                  && adapted.base() instanceof Parameterization.BaseWeights.Nf4;
          if (adapter != null && (!adapter.mergeable() || nf4)) {
            // virtual tokens do not fold into weights, nor LoRA into NF4 codes: saved as PEFT
            // saves a SEQ_CLS adapter
            dev.tuneforge.llm.preference.RewardAdapter.save(
                reward, adapter, Policy.finalDir(job), job.model().toString(), job.model());
            return outcome(job, true, history);
          }
          if (adapter != null) {
            adapter.merge();
          }
          reward.save(Policy.finalDir(job), job.model());
          return outcome(job, false, history);
        }
      }
    }
  }

  private static Outcome dpo(
      TrainingJob job,
      MethodSettings.Dpo dpo,
      LlamaModel model,
      Adapter adapter,
      List<PreferencePair> train,
      List<PreferencePair> eval,
      dev.tuneforge.llm.recipe.StepListener listener,
      SftRecipe.Checkpointing checkpointing,
      Path resumeFrom,
      RunHooks hooks) {
    Reference reference =
        adapter != null
            ? Reference.adapterDisabled(model, adapter)
            : Reference.frozen(
                LlamaModel.load(
                    job.model(), job.compute(), job.parameterization().baseProjections()));
    List<TrainingStep> history;
    try (reference) {
      history =
          new DpoTrainer(
                  model,
                  adapter == null ? model.weights() : adapter.parameters(),
                  job.trainer(),
                  dpo.settings(),
                  reference)
              .withOptimizer(job.optimizer())
              .withStopSignal(hooks.stop())
              .withAdapterTraining(AdapterTraining.of(adapter))
              .train(train, eval, listener, checkpointing, resumeFrom);
    } catch (Exception e) {
      throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }
    if (hooks.stop().getAsBoolean()) {
      return Outcome.stopped(Policy.finalDir(job), adapter != null);
    }
    Policy.saveFinal(job, model, adapter);
    return outcome(job, adapter != null, history);
  }

  private static Outcome outcome(TrainingJob job, boolean adapter, List<TrainingStep> history) {
    TrainingStep last = history.get(history.size() - 1);
    return new Outcome(Policy.finalDir(job), adapter, last, last.figures(), false);
  }

  private static List<PreferencePair> read(
      Path file, Tokenizer tokenizer, PreferenceDataset.Options options) {
    try {
      return PreferenceDataset.parse(Files.readAllLines(file), tokenizer, options);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
