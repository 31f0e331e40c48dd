package dev.tuneforge.llm.run;

import dev.tuneforge.llm.preference.DpoTrainer;
import dev.tuneforge.llm.recipe.EvalPolicy;
import dev.tuneforge.llm.rl.PpoSettings;
import dev.tuneforge.llm.rl.TextReward;
import java.util.List;
import java.util.Objects;

/** The training method and the settings only it takes. */
public sealed interface MethodSettings {
  /**
   * The settings only supervised fine-tuning uses, by their TRL names, in the order they are
   * checked; any other method given one of them refuses it rather than drop it (the gateway's
   * {@code JobSpecCombinations} keeps the same list for the job spec; a trainer-service test holds
   * them equal).
   */
  java.util.List<String> SFT_ONLY =
      java.util.List.of(
          "packing",
          "gradient_checkpointing",
          "fp16",
          "group_by_length",
          "load_best_model_at_end",
          "assistant_only_loss",
          "neftune_noise_alpha",
          "early_stopping_patience");

  /** The first of {@link #SFT_ONLY} that {@code sft} or {@code data} sets, if any. */
  static java.util.Optional<String> sftOnlyGiven(Sft sft, DataSettings data) {
    boolean[] given = {
      data.packing(),
      sft.gradientCheckpointing(),
      sft.fp16(),
      data.groupByLength(),
      sft.evalPolicy().loadBestModelAtEnd(),
      data.assistantOnlyLoss(),
      sft.neftuneNoiseAlpha() > 0,
      sft.evalPolicy().earlyStoppingPatience() > 0
    };
    for (int i = 0; i < given.length; i++) {
      if (given[i]) {
        return java.util.Optional.of(SFT_ONLY.get(i));
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * Supervised fine-tuning on prompt/completion, conversational or text records.
   *
   * @param neftuneNoiseAlpha NEFTune's noise on the input embeddings (0: off)
   * @param gradientCheckpointing recompute each layer's activations in the backward pass
   * @param fp16 float16 weights and compute with float32 masters and loss scaling
   * @param evalPolicy best-model selection and early stopping on evaluation figures
   */
  record Sft(
      double neftuneNoiseAlpha, boolean gradientCheckpointing, boolean fp16, EvalPolicy evalPolicy)
      implements MethodSettings {
    public static final Sft DEFAULT = new Sft(0, false, false, EvalPolicy.NONE);

    public Sft {
      Objects.requireNonNull(evalPolicy, "evalPolicy");
    }
  }

  /** Direct preference optimisation on prompt/chosen/rejected records. */
  record Dpo(DpoTrainer.Settings settings) implements MethodSettings {
    public Dpo {
      Objects.requireNonNull(settings, "settings");
    }
  }

  /**
   * A Bradley-Terry reward model (a score head on the base) on prompt/chosen/rejected records.
   *
   * @param centerRewardsCoefficient TRL's {@code center_rewards_coefficient} (0: off)
   */
  record RewardModel(double centerRewardsCoefficient) implements MethodSettings {}

  /** PPO against {@code reward} on prompt-only records. */
  record Ppo(PpoSettings settings, TextReward reward) implements MethodSettings {
    public Ppo {
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(reward, "reward");
    }
  }

  /**
   * Online DPO (RLAIF) on prompt-only records: two sampled completions per prompt, the better by
   * {@code judging} chosen, the DPO loss against the reference.
   */
  record OnlineDpo(dev.tuneforge.llm.preference.OnlineDpoTrainer.Settings settings, Judging judging)
      implements MethodSettings {
    public OnlineDpo {
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(judging, "judging");
      if (judging instanceof Judging.ByModel && settings.missingEosPenalty() != 0) {
        throw new IllegalArgumentException(
            "missing_eos_penalty adjusts a reward model's scores; a judge model compares the two"
                + " completions and gives no score to adjust");
      }
    }

    /** Online DPO judged by a reward model (pointwise: the higher score wins). */
    public OnlineDpo(
        dev.tuneforge.llm.preference.OnlineDpoTrainer.Settings settings, TextReward reward) {
      this(settings, new Judging.ByReward(reward));
    }
  }

  /** What judges online DPO's pairs: a reward model, or a language model asked to compare them. */
  sealed interface Judging {
    /** A reward model scores each completion; the higher wins. */
    record ByReward(TextReward reward) implements Judging {
      public ByReward {
        Objects.requireNonNull(reward, "reward");
      }
    }

    /**
     * A causal LM in Hugging Face layout (an LLM as the judge), asked greedily through {@code
     * template} (holding {prompt}, {first} and {second}; null: {@code LlmJudge.DEFAULT_TEMPLATE}),
     * inside its own chat template when it has one, each pair twice with the order swapped.
     */
    record ByModel(java.nio.file.Path model, String template) implements Judging {
      public ByModel {
        Objects.requireNonNull(model, "model");
        if (template != null) {
          dev.tuneforge.llm.generate.PromptTemplate.of(template, "prompt", "first", "second");
        }
      }
    }
  }

  /**
   * Best-of-N rejection sampling: the base samples N responses per prompt, {@code reward} ranks
   * them, and the best of each prompt is the data of an SFT run with {@code then}.
   */
  record BestOfN(BestOfNSettings settings, TextReward reward, Sft then) implements MethodSettings {
    public BestOfN {
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(reward, "reward");
      Objects.requireNonNull(then, "then");
    }
  }

  /** How a generation job's model samples: at most maxNewTokens, at temperature (0: greedy). */
  record Sampling(int maxNewTokens, double temperature, double topP) {
    public Sampling {
      if (maxNewTokens < 1) {
        throw new IllegalArgumentException("max_new_tokens must be >= 1 but was " + maxNewTokens);
      }
      if (!(temperature >= 0) || !(topP > 0 && topP <= 1)) {
        throw new IllegalArgumentException(
            "temperature must be >= 0 and top_p in (0, 1], not " + temperature + ", " + topP);
      }
    }
  }

  /**
   * Self-Instruct data, written by the base model from the seed tasks of the training file (Alpaca
   * JSONL); trains nothing.
   */
  record SelfInstructData(dev.tuneforge.llm.synth.SelfInstruct.Settings settings, Sampling sampling)
      implements MethodSettings {
    public SelfInstructData {
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(sampling, "sampling");
    }
  }

  /**
   * Constitutional AI data: the base model answers the training file's prompts (prompt-only JSONL),
   * critiques and revises under {@code constitution}, {@code batchSize} prompts at a time; trains
   * nothing.
   */
  record ConstitutionalAiData(
      List<dev.tuneforge.llm.synth.ConstitutionalAi.Principle> constitution,
      int batchSize,
      Sampling sampling)
      implements MethodSettings {
    public ConstitutionalAiData {
      constitution = List.copyOf(constitution);
      Objects.requireNonNull(sampling, "sampling");
    }
  }

  /** Best-of-N sampling: N candidates per prompt, drawn with these settings until EOS. */
  record BestOfNSettings(
      int n, double temperature, int topK, double topP, int maxNewTokens, long seed) {
    public BestOfNSettings {
      if (n < 1) {
        throw new IllegalArgumentException("best_of_n.n must be >= 1 but was " + n);
      }
      if (maxNewTokens < 1) {
        throw new IllegalArgumentException(
            "best_of_n.max_new_tokens must be >= 1 but was " + maxNewTokens);
      }
    }
  }
}
