package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.WeightNames;
import dev.tuneforge.llm.preference.Reference;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.rl.PpoLosses;
import dev.tuneforge.llm.rl.PpoSettings;
import dev.tuneforge.llm.rl.PpoTrainer;
import dev.tuneforge.llm.rl.RewardFunction;
import dev.tuneforge.llm.rl.ValueHead;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * PPO throughput on one model: rollout tokens/s and where a step's time goes (generation, reward
 * scoring, the rollout forwards of policy/reference/values, optimisation), median over the timed
 * steps. The reward is a local reward model built on the policy's backbone (or one given), so
 * scoring costs what a real one does.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "ppo-bench",
    description = "PPO rollout tokens/s and the time split of a step.")
final class PpoBenchCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "Policy model directory.")
  Path dir;

  @Option(
      names = "--reward-model",
      description = "Reward model directory; default: a fresh score head on --model's backbone.")
  Path rewardDir;

  @Option(names = "--method", defaultValue = "lora", description = "full or lora.")
  String method;

  @Option(names = "--batch", defaultValue = "16", description = "Prompts per step.")
  int batch;

  @Option(names = "--mini-batch", defaultValue = "4")
  int miniBatch;

  @Option(names = "--ppo-epochs", defaultValue = "2")
  int ppoEpochs;

  @Option(names = "--prompt-len", defaultValue = "32")
  int promptLength;

  @Option(names = "--response-length", defaultValue = "32")
  int responseLength;

  @Option(
      names = "--steps",
      defaultValue = "4",
      description = "Timed steps (after 1 warm-up step).")
  int steps;

  @Override
  public Integer call() {
    if (!method.equals("full") && !method.equals("lora")) {
      throw new IllegalArgumentException("--method must be full or lora but was " + method);
    }
    PrintWriter out = spec.commandLine().getOut();
    LoraAdapter adapter =
        method.equals("lora")
            ? LoraAdapter.create(new LoraSettings(16, 32, 0.0, LoraSettings.ALL_LINEAR, false), 1)
            : null;
    Projections projections =
        adapter == null ? Projections.DENSE : adapter.projections(Projections.DENSE);
    try (LlamaModel policy = LlamaModel.load(dir, Compute.CPU_FLOAT32, projections);
        RewardModel rewardModel =
            rewardDir != null
                ? RewardModel.load(rewardDir, Compute.CPU_FLOAT32, Projections.DENSE)
                : RewardModel.fromCausalLm(
                    LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE), 7);
        Reference reference =
            adapter != null
                ? Reference.adapterDisabled(policy, adapter)
                : Reference.frozen(LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE))) {
      ValueHead head =
          ValueHead.create(
              policy.manager(),
              policy.config().hiddenSize(),
              policy.weights().get(WeightNames.EMBED_TOKENS).getDataType(),
              3);
      PpoSettings settings =
          new PpoSettings(
              adapter != null ? 1e-4 : 1e-5,
              batch,
              miniBatch,
              ppoEpochs,
              steps + 1,
              responseLength,
              1.0,
              0.05,
              PpoLosses.KlEstimator.K1,
              null,
              10000,
              1.0,
              0.95,
              0.2,
              0.2,
              0.1,
              0.01,
              0,
              false,
              1.0,
              1,
              1);
      PpoTrainer trainer =
          new PpoTrainer(
              policy,
              adapter != null ? adapter.parameters() : policy.weights(),
              head,
              reference,
              RewardFunction.of(rewardModel, miniBatch),
              settings);
      List<Map<String, Double>> timed = new ArrayList<>();
      trainer.train(
          prompts(policy.config().vocabSize()),
          p -> {
            if (p.step() > 1) {
              timed.add(p.figures());
            }
          });
      String[] keys = {
        "time/generation_s", "time/scoring_s", "time/rollout_forward_s", "time/optimization_s"
      };
      double[] medians = new double[keys.length];
      double total = 0;
      for (int k = 0; k < keys.length; k++) {
        medians[k] = median(timed, keys[k]);
        total += medians[k];
      }
      out.printf(
          "ppo-bench %s: %d layers, hidden %d, batch %d x (prompt %d + response <= %d), %d ppo"
              + " epochs of mini-batches of %d%n",
          method,
          policy.config().numLayers(),
          policy.config().hiddenSize(),
          batch,
          promptLength,
          responseLength,
          ppoEpochs,
          miniBatch);
      out.printf(
          "rollout: %.0f tokens/s generated (median of %d steps), mean response %.1f tokens%n",
          median(timed, "rollout/tokens_per_second"),
          timed.size(),
          median(timed, "rollout/response_length"));
      out.printf("step: %.3f s median; split:%n", total);
      String[] names = {"generation", "scoring", "rollout forward", "optimisation"};
      for (int k = 0; k < keys.length; k++) {
        out.printf("  %-16s %7.3f s  %5.1f%%%n", names[k], medians[k], 100 * medians[k] / total);
      }
      out.flush();
    }
    return 0;
  }

  private List<int[]> prompts(int vocabSize) {
    Random random = new Random(11);
    List<int[]> prompts = new ArrayList<>();
    for (int i = 0; i < batch * (steps + 1); i++) {
      int[] prompt = new int[promptLength];
      for (int t = 0; t < promptLength; t++) {
        prompt[t] = random.nextInt(Math.min(256, vocabSize));
      }
      prompts.add(prompt);
    }
    return prompts;
  }

  private static double median(List<Map<String, Double>> steps, String key) {
    double[] values = steps.stream().mapToDouble(m -> m.get(key)).sorted().toArray();
    return values.length % 2 == 1
        ? values[values.length / 2]
        : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
  }
}
