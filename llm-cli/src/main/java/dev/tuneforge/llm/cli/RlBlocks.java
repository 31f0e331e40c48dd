package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.preference.OnlineDpoTrainer;
import dev.tuneforge.llm.preference.PreferenceLosses;
import dev.tuneforge.llm.rl.PpoLosses;
import dev.tuneforge.llm.rl.PpoSettings;
import dev.tuneforge.llm.rl.RewardScorer;
import dev.tuneforge.llm.rl.TextReward;
import dev.tuneforge.llm.run.MethodSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The reward-driven blocks of a spec file, {@code ppo} (TRL PPOConfig names) and {@code online_dpo}
 * (TRL OnlineDPOConfig names), with TRL's defaults, as the API's {@code method.ppo} and {@code
 * method.online_dpo} take them; their judges are directories here: a reward model saved as {@code
 * LlamaForSequenceClassification} (or a PEFT reward adapter), or a causal LM as the judge model.
 */
final class RlBlocks {
  private RlBlocks() {}

  /** TRL PPOConfig names; a step rolls out per_device_train_batch_size prompts. */
  static final class Ppo {
    String rewardModel;
    int numPpoEpochs = 4;
    int numMiniBatches = 1;
    double klCoef = 0.05;
    String klEstimator = "k1";
    Double targetKl;
    double cliprange = 0.2;
    double cliprangeValue = 0.2;
    double vfCoef = 0.1;
    double gamma = 1.0;
    double lam = 0.95;
    boolean whitenRewards = false;
    int responseLength = 53;
    double temperature = 0.7;
    double entropyCoef = 0.0;
    double missingEosPenalty = 0.0;

    /**
     * The settings of a run whose steps are max_steps, else num_train_epochs passes over {@code
     * prompts} in rollouts of {@code batch}, as the trainer-service's PPO jobs take them.
     */
    PpoSettings settings(
        double learningRate,
        int batch,
        long maxSteps,
        double epochs,
        long prompts,
        double maxGradNorm,
        int loggingSteps,
        long seed) {
      if (batch % Math.max(1, numMiniBatches) != 0) {
        throw new IllegalArgumentException(
            "ppo.num_mini_batches must divide per_device_train_batch_size "
                + batch
                + " but was "
                + numMiniBatches);
      }
      if (!klEstimator.equals("k1") && !klEstimator.equals("k3")) {
        throw new IllegalArgumentException(
            "ppo.kl_estimator must be k1 or k3 but was \"" + klEstimator + "\"");
      }
      long steps =
          maxSteps > 0 ? maxSteps : Math.max(1, (long) Math.floor(epochs * prompts / batch));
      return new PpoSettings(
          learningRate,
          batch,
          batch / Math.max(1, numMiniBatches),
          numPpoEpochs,
          steps,
          responseLength,
          temperature,
          klCoef,
          PpoLosses.KlEstimator.valueOf(klEstimator.toUpperCase(Locale.ROOT)),
          targetKl,
          10000,
          gamma,
          lam,
          cliprange,
          cliprangeValue,
          vfCoef,
          entropyCoef,
          missingEosPenalty,
          whitenRewards,
          maxGradNorm,
          Math.max(1, loggingSteps),
          seed);
    }
  }

  /** TRL OnlineDPOConfig names; exactly one of reward_model and judge_model. */
  static final class OnlineDpo {
    String rewardModel;
    String judgeModel;
    String judgeTemplate;
    double beta = 0.1;
    String lossType = "sigmoid";
    int maxNewTokens = 64;
    double temperature = 0.9;
    double missingEosPenalty = 0.0;

    MethodSettings.OnlineDpo settings() {
      if ((rewardModel == null) == (judgeModel == null)) {
        throw new IllegalArgumentException(
            "online_dpo takes one judge: reward_model (a reward model directory) or judge_model"
                + " (a causal LM directory), "
                + (rewardModel == null ? "and neither is set" : "not both"));
      }
      if (judgeTemplate != null && judgeModel == null) {
        throw new IllegalArgumentException(
            "online_dpo.judge_template is the judge model's prompt; set judge_model to use it");
      }
      OnlineDpoTrainer.Settings settings =
          new OnlineDpoTrainer.Settings(
              beta,
              PreferenceLosses.DpoLoss.parse(lossType),
              maxNewTokens,
              temperature,
              missingEosPenalty);
      MethodSettings.Judging judging =
          judgeModel != null
              ? new MethodSettings.Judging.ByModel(
                  existing(judgeModel, "online_dpo.judge_model"), judgeTemplate)
              : new MethodSettings.Judging.ByReward(
                  localReward(rewardModel, "online_dpo.reward_model"));
      return new MethodSettings.OnlineDpo(settings, judging);
    }
  }

  /** A reward model directory, loaded when the run first scores (not when the spec is read). */
  static TextReward localReward(String dir, String key) {
    Path path = existing(dir, key);
    RewardScorer[] loaded = {null};
    return (prompts, responses) -> {
      if (loaded[0] == null) {
        loaded[0] = RewardScorer.load(path);
      }
      return loaded[0].reward(16).score(prompts, responses);
    };
  }

  private static Path existing(String dir, String key) {
    Path path = Path.of(dir);
    if (!Files.isRegularFile(path.resolve("config.json"))
        && !Files.isRegularFile(path.resolve("adapter_config.json"))) {
      throw new IllegalArgumentException(
          key + " " + dir + " is not a model directory: it has no config.json");
    }
    return path;
  }

  /** The non-blank lines of a prompt file, which PPO's epochs are counted in. */
  static long records(Path file) {
    try (Stream<String> lines = Files.lines(file)) {
      return lines.filter(l -> !l.isBlank()).count();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
