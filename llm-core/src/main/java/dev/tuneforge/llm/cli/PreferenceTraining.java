package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.data.PreferenceDataset;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.DpoTrainer;
import dev.tuneforge.llm.preference.PairwiseTrainer;
import dev.tuneforge.llm.preference.PreferencePair;
import dev.tuneforge.llm.preference.Reference;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.preference.RewardTrainer;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * DPO and reward-model training of one {@link TrainSpec} on preference JSONL ({@code prompt,
 * chosen, rejected}, plain or conversational): the trainer service's path for those methods. DPO
 * with an adapter uses the policy with the adapter disabled as its reference, full DPO a frozen
 * copy; a reward model gets a score head and is saved in Hugging Face sequence-classification
 * layout (an adapter is merged into it first).
 */
public final class PreferenceTraining {
  /** Which preference method. */
  public enum Kind {
    DPO,
    REWARD_MODEL
  }

  /** What the caller sees while it runs (see {@link LocalTraining.Hooks}). */
  public record Hooks(
      PairwiseTrainer.Listener listener, Consumer<Path> onCheckpoint, BooleanSupplier stop) {}

  /** Where the result went. */
  public record Outcome(
      Path finalDir, boolean adapter, List<PairwiseTrainer.Progress> history, boolean stopped) {}

  private PreferenceTraining() {}

  public static Outcome run(
      TrainSpec job,
      Kind kind,
      DpoTrainer.Settings dpo,
      double centerRewards,
      Path resumeFrom,
      Hooks hooks) {
    Path modelDir = Path.of(job.model);
    Path output = Path.of(job.outputDir);
    if ((job.method.equals("prompt") || job.method.equals("prefix")) && kind == Kind.REWARD_MODEL) {
      throw new IllegalArgumentException(
          "a reward model cannot be "
              + job.method
              + "-tuned (PEFT's sequence classification with virtual tokens is not implemented);"
              + " use lora, qlora or full");
    }
    if (job.method.equals("qlora") && kind == Kind.REWARD_MODEL) {
      throw new IllegalArgumentException(
          "a QLoRA reward model cannot be saved (its NF4 backbone does not merge); use lora or"
              + " full");
    }
    try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
      ChatTemplate template = job.template(tokenizer);
      PreferenceDataset.Options options =
          new PreferenceDataset.Options(job.promptLimit(), job.maxSeqLength, template);
      List<PreferencePair> train = read(job.trainFile, tokenizer, options);
      List<PreferencePair> eval =
          job.evalFile == null ? List.of() : read(job.evalFile, tokenizer, options);
      dev.tuneforge.llm.adapter.Adapter adapter = job.newAdapter(tokenizer);
      if (adapter != null && adapter.trainingHooks().isPresent()) {
        throw new IllegalArgumentException(
            adapter.peftType()
                + " shapes its own training (rank allocation) and is trained by SFT only; use"
                + " lora, qlora or ia3 here");
      }
      Projections base = job.baseProjections();
      try (LlamaModel model = LlamaModel.load(modelDir, job.compute(), job.projections(adapter))) {
        Consumer<Path> onSaved =
            dir -> {
              if (adapter != null) {
                adapter.save(dir.resolve("adapter"), job.model);
              }
              hooks.onCheckpoint().accept(dir);
            };
        SftRecipe.Checkpointing checkpointing =
            new SftRecipe.Checkpointing(output, job.saveSteps, job.saveTotalLimit, onSaved);
        Path last = output.resolve("final");
        List<PairwiseTrainer.Progress> history;
        if (kind == Kind.DPO) {
          Reference reference =
              adapter != null
                  ? Reference.adapterDisabled(model, adapter)
                  : Reference.frozen(LlamaModel.load(modelDir, job.compute(), base));
          try (reference) {
            DpoTrainer trainer =
                new DpoTrainer(
                    model,
                    adapter == null ? model.weights() : adapter.parameters(),
                    job.settings(),
                    dpo,
                    reference);
            history = trainer.train(train, eval, stopping(hooks), checkpointing, resumeFrom);
          } catch (StopRequested stop) {
            return new Outcome(last, adapter != null, List.of(), true);
          } catch (Exception e) {
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
          }
          if (adapter != null) {
            adapter.save(last, job.model);
          } else {
            model.save(last);
            copyTokenizer(modelDir, last);
          }
        } else {
          try (RewardModel reward = RewardModel.fromCausalLm(model, job.seed)) {
            Map<String, ai.djl.ndarray.NDArray> trainable;
            if (adapter == null) {
              trainable = reward.fullParameters();
            } else {
              trainable = new LinkedHashMap<>(adapter.parameters());
              trainable.put(RewardModel.SCORE, reward.head());
            }
            try {
              history =
                  new RewardTrainer(reward, trainable, job.settings(), centerRewards)
                      .train(train, eval, stopping(hooks), checkpointing, resumeFrom);
            } catch (StopRequested stop) {
              return new Outcome(last, false, List.of(), true);
            }
            if (adapter != null) {
              adapter.merge();
            }
            reward.save(last, modelDir);
          }
          // RewardModel.close closed the backbone; the try-with-resources close is a no-op then.
          return new Outcome(last, false, history, false);
        }
        return new Outcome(last, adapter != null, history, false);
      }
    }
  }

  /** Thrown from the listener to stop a pairwise run at a logging step (a cancel). */
  static final class StopRequested extends RuntimeException {
    StopRequested() {
      super("stopped", null, false, false);
    }
  }

  private static PairwiseTrainer.Listener stopping(Hooks hooks) {
    return p -> {
      hooks.listener().onProgress(p);
      if (hooks.stop().getAsBoolean()) {
        throw new StopRequested();
      }
    };
  }

  private static List<PreferencePair> read(
      String file, Tokenizer tokenizer, PreferenceDataset.Options options) {
    try {
      return PreferenceDataset.parse(Files.readAllLines(Path.of(file)), tokenizer, options);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  static void copyTokenizer(Path from, Path to) {
    try {
      MergeCommand.copyTokenizerFiles(from, to);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the tokenizer to " + to, e);
    }
  }
}
