package dev.tuneforge.llm.preference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import dev.tuneforge.llm.recipe.TrainingStep;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DPO moves the {@link LetterTask} policy toward the chosen behaviour: on held-out pairs the
 * implicit-reward accuracy and margin grow and the policy's own likelihood comes to prefer the
 * chosen response; sampled answers to held-out prompts score higher with the rule-based judge.
 */
class DpoTest {
  @TempDir static Path dir;
  static Path sft;
  static final List<PreferencePair> TRAIN = LetterTask.clearPairs(1500, 0.75, 1);
  static final List<PreferencePair> HELD_OUT = LetterTask.clearPairs(300, 0.75, 2);
  static final List<int[]> HELD_OUT_PROMPTS = LetterTask.prompts(300, 3);

  @BeforeAll
  static void writePolicy() {
    sft = LetterTask.writeSftPolicy(dir);
  }

  @ParameterizedTest(name = "{0} (label_smoothing {1}, beta {2})")
  @CsvSource({"sigmoid, 0.0, 0.1", "sigmoid, 0.1, 0.1", "ipo, 0.0, 0.5"})
  void fullDpoMovesHeldOutPreferencesAndSamples(String loss, double smoothing, double beta) {
    try (LlamaModel policy = LlamaModel.load(sft, Compute.CPU_FLOAT32, Projections.DENSE)) {
      DpoTrainer trainer =
          new DpoTrainer(
              policy,
              policy.weights(),
              SftSettings.forSteps(100, 32, 3e-4, 9),
              new DpoTrainer.Settings(beta, PreferenceLosses.DpoLoss.parse(loss), smoothing),
              Reference.frozen(LlamaModel.load(sft, Compute.CPU_FLOAT32, Projections.DENSE)));
      Outcome outcome = run(policy, trainer, "full " + loss + " ls " + smoothing);
      assertTrue(outcome.after().get("rewards/accuracies") >= 0.9, "held-out " + outcome);
      assertTrue(outcome.after().get("rewards/margins") > 0.1, "held-out " + outcome);
      assertTrue(outcome.likelihoodAfter() >= outcome.likelihoodBefore() + 0.2, "" + outcome);
      assertTrue(outcome.judgeAfter() >= outcome.judgeBefore() + 0.15, "" + outcome);
    }
  }

  @Test
  void loraDpoAgainstTheDisabledAdapterMovesHeldOutPreferences() {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(16, 32, 0.0, LoraSettings.ALL_LINEAR, false), 4);
    try (LlamaModel policy =
        LlamaModel.load(sft, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      DpoTrainer trainer =
          new DpoTrainer(
              policy,
              adapter.parameters(),
              SftSettings.forSteps(100, 32, 2e-4, 9),
              DpoTrainer.Settings.DEFAULT,
              Reference.adapterDisabled(policy, adapter));
      Outcome outcome = run(policy, trainer, "LoRA sigmoid");
      assertTrue(outcome.after().get("rewards/accuracies") >= 0.9, "held-out " + outcome);
      assertTrue(outcome.likelihoodAfter() >= outcome.likelihoodBefore() + 0.2, "" + outcome);
      assertTrue(outcome.judgeAfter() > outcome.judgeBefore(), "" + outcome);
    }
  }

  @Test
  void adaLoraDpoAllocatesItsBudgetAndMovesHeldOutPreferences() {
    var settings =
        new dev.tuneforge.llm.adapter.adalora.AdaLoraSettings(
            8, 4, 20, 30, 10, 0.85, 0.85, 0.5, 0, 16, 0.0, LoraSettings.ALL_LINEAR, Map.of());
    var adapter = dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter.create(settings, 4);
    try (LlamaModel policy =
        LlamaModel.load(sft, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      DpoTrainer trainer =
          new DpoTrainer(
                  policy,
                  adapter.parameters(),
                  SftSettings.forSteps(100, 32, ADALORA_LR, 9),
                  DpoTrainer.Settings.DEFAULT,
                  Reference.adapterDisabled(policy, adapter))
              .withAdapterTraining(dev.tuneforge.llm.recipe.AdapterTraining.of(adapter));
      Outcome outcome = run(policy, trainer, "AdaLoRA sigmoid");
      long kept =
          adapter.rankPattern().values().stream()
              .mapToLong(k -> k.stream().filter(b -> b).count())
              .sum();
      System.out.printf("AdaLoRA DPO: ranks kept %d of %d%n", kept, 8 * 14);
      assertEquals(14, adapter.rankPattern().size(), "2 layers x 7 projections");
      assertEquals(4 * 14, kept, "the final pattern holds the target budget");
      assertTrue(outcome.after().get("rewards/accuracies") >= 0.9, "held-out " + outcome);
      assertTrue(outcome.likelihoodAfter() >= outcome.likelihoodBefore() + 0.2, "" + outcome);
      assertTrue(outcome.judgeAfter() > outcome.judgeBefore(), "" + outcome);
    }
  }

  static final double ADALORA_LR = 5e-3;

  record Outcome(
      Map<String, Double> before,
      Map<String, Double> after,
      double likelihoodBefore,
      double likelihoodAfter,
      double judgeBefore,
      double judgeAfter) {}

  /** Trains on TRAIN and measures held-out pairs and sampled answers before and after. */
  private static Outcome run(LlamaModel policy, DpoTrainer trainer, String label) {
    Map<String, Double> before = trainer.evaluate(HELD_OUT);
    double likelihoodBefore = likelihoodPrefersChosen(policy, HELD_OUT);
    double judgeBefore = LetterTask.sampledJudgeMean(policy, HELD_OUT_PROMPTS, 77);
    List<TrainingStep> history = trainer.train(TRAIN, List.of(), StepListener.NONE);
    Map<String, Double> after = trainer.evaluate(HELD_OUT);
    Outcome outcome =
        new Outcome(
            before,
            after,
            likelihoodBefore,
            likelihoodPrefersChosen(policy, HELD_OUT),
            judgeBefore,
            LetterTask.sampledJudgeMean(policy, HELD_OUT_PROMPTS, 77));
    System.out.printf(
        "DPO %s: held-out rewards/accuracies %.3f -> %.3f, rewards/margins %.3f -> %.3f,"
            + " logps/chosen %.2f -> %.2f, likelihood prefers chosen %.3f -> %.3f, sampled judge"
            + " %.3f -> %.3f%n",
        label,
        before.get("rewards/accuracies"),
        after.get("rewards/accuracies"),
        before.get("rewards/margins"),
        after.get("rewards/margins"),
        before.get("logps/chosen"),
        after.get("logps/chosen"),
        outcome.likelihoodBefore(),
        outcome.likelihoodAfter(),
        judgeBefore,
        outcome.judgeAfter());
    assertEquals(0.0, before.get("rewards/margins"), 1e-6, "policy == reference at the start");
    for (String name :
        List.of(
            "rewards/chosen",
            "rewards/rejected",
            "rewards/margins",
            "rewards/accuracies",
            "logps/chosen",
            "logps/rejected")) {
      assertTrue(history.get(0).figures().containsKey(name), name + " is logged");
    }
    return outcome;
  }

  @Test
  void rpoAddsTheChosenResponsesTokenMeanNll() {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(8, 16, 0.0, LoraSettings.ALL_LINEAR, false), 4);
    try (LlamaModel policy =
        LlamaModel.load(sft, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      SftSettings settings = SftSettings.forSteps(1, 32, 1e-3, 9);
      List<PreferencePair> pairs = HELD_OUT.subList(0, 32);
      Map<String, Double> plain =
          new DpoTrainer(
                  policy,
                  adapter.parameters(),
                  settings,
                  DpoTrainer.Settings.DEFAULT,
                  Reference.adapterDisabled(policy, adapter))
              .evaluate(pairs);
      Map<String, Double> rpo =
          new DpoTrainer(
                  policy,
                  adapter.parameters(),
                  settings,
                  new DpoTrainer.Settings(0.1, PreferenceLosses.DpoLoss.SIGMOID, 0, 0.5),
                  Reference.adapterDisabled(policy, adapter))
              .evaluate(pairs);
      // every chosen response has 5 tokens (4 letters and EOS): NLL = -mean(logps/chosen) / 5
      double nll = -plain.get("logps/chosen") / 5;
      assertEquals(plain.get("loss") + 0.5 * nll, rpo.get("loss"), 1e-4);
    }
  }

  @Test
  void fullFineTuningWithAFrozenCopyOrPrecomputedReferenceTrainsIdentically() {
    List<PreferencePair> train = TRAIN.subList(0, 64);
    List<Double> live = fullDpo(train, false);
    List<Double> precomputed = fullDpo(train, true);
    assertEquals(live.size(), precomputed.size());
    for (int i = 0; i < live.size(); i++) {
      assertEquals(live.get(i), precomputed.get(i), 1e-5, "loss at log " + i);
    }
    assertTrue(live.get(live.size() - 1) < live.get(0), "the loss falls: " + live);
  }

  private static List<Double> fullDpo(List<PreferencePair> train, boolean precompute) {
    try (LlamaModel policy = LlamaModel.load(sft, Compute.CPU_FLOAT32, Projections.DENSE)) {
      SftSettings settings = new SftSettings(1e-3, 8, 1, 6, 0, 1.0, "linear", 0, 0, 0, 1, 0, 5);
      DpoTrainer trainer =
          new DpoTrainer(
              policy,
              policy.weights(),
              settings,
              DpoTrainer.Settings.DEFAULT,
              Reference.frozen(LlamaModel.load(sft, Compute.CPU_FLOAT32, Projections.DENSE)));
      if (precompute) {
        trainer.precomputeReference(List.of(train), 8);
      }
      List<Double> losses = new ArrayList<>();
      trainer.train(train, List.of(), p -> losses.add(p.loss()));
      return losses;
    }
  }

  /** Share of pairs where the policy gives the chosen response the higher log-probability. */
  static double likelihoodPrefersChosen(LlamaModel policy, List<PreferencePair> pairs) {
    int prefers = 0;
    for (PreferencePair pair : pairs) {
      SequenceBatch batch =
          SequenceBatch.of(
              List.of(pair.prompt(), pair.prompt()), List.of(pair.chosen(), pair.rejected()), 0);
      try (NDManager scope = policy.manager().newSubManager()) {
        float[] logps =
            Autograd.withGrad(
                false,
                () ->
                    batch
                        .responseLogProbs(
                            policy.forward(batch.idsArray(scope), batch.maskArray(scope), null),
                            scope)
                        .toFloatArray());
        prefers += logps[0] > logps[1] ? 1 : 0;
      }
    }
    return (double) prefers / pairs.size();
  }
}
