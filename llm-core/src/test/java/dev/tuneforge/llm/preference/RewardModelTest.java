package dev.tuneforge.llm.preference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.Nf4Linear;
import dev.tuneforge.llm.checkpoint.Safetensors;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.WeightNames;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import dev.tuneforge.llm.recipe.TrainerCheckpoint;
import dev.tuneforge.llm.recipe.TrainingStep;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reward model pools at the last real token whatever the padding side, saves and loads in
 * Hugging Face's sequence-classification layout, and learns the {@link LetterTask} preference to at
 * least 90% pairwise accuracy on held-out pairs, by full fine-tuning and by LoRA.
 */
class RewardModelTest {
  @TempDir static Path dir;
  static Path sft;
  static final List<PreferencePair> TRAIN = LetterTask.pairs(2000, 1);
  static final List<PreferencePair> HELD_OUT = LetterTask.pairs(400, 2);

  @BeforeAll
  static void writePolicy() {
    sft = LetterTask.writeSftPolicy(dir);
  }

  @Test
  void rewardIsPooledAtTheLastRealTokenForLeftAndRightPadding() {
    try (LlamaModel backbone = LlamaModel.load(sft, Compute.CPU_FLOAT32, Projections.DENSE);
        RewardModel model = RewardModel.fromCausalLm(backbone, 3);
        NDManager scope = backbone.manager().newSubManager()) {
      int[] shortPrompt = {LetterTask.BOS, 'A', '='};
      int[] longPrompt = {LetterTask.BOS, 'B', 'C', 'D', '='};
      int[] response = {'E', 'F', LetterTask.EOS};
      double alone1 = model.score(List.of(shortPrompt), List.of(response), 1)[0];
      double alone2 = model.score(List.of(longPrompt), List.of(response), 1)[0];
      double[] rightPadded =
          model.score(List.of(shortPrompt, longPrompt), List.of(response, response), 2);
      assertEquals(alone1, rightPadded[0], 1e-5);
      assertEquals(alone2, rightPadded[1], 1e-5);
      int pad = 0;
      long[] ids = {
        pad,
        pad,
        LetterTask.BOS,
        'A',
        '=',
        'E',
        'F',
        LetterTask.EOS,
        LetterTask.BOS,
        'B',
        'C',
        'D',
        '=',
        'E',
        'F',
        LetterTask.EOS
      };
      long[] mask = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
      float[] leftPadded =
          model
              .rewards(scope.create(ids, new Shape(2, 8)), scope.create(mask, new Shape(2, 8)))
              .toFloatArray();
      assertEquals(alone1, leftPadded[0], 1e-5);
      assertEquals(alone2, leftPadded[1], 1e-5);
      assertTrue(Math.abs(alone1 - alone2) > 1e-6, "different sequences score differently");
    }
  }

  @Test
  void fullFineTuningLearnsTheHeldOutPreferenceAndRoundTripsInHfLayout() throws Exception {
    try (LlamaModel backbone = LlamaModel.load(sft, Compute.CPU_FLOAT32, Projections.DENSE);
        RewardModel model = RewardModel.fromCausalLm(backbone, 3)) {
      RewardTrainer trainer =
          new RewardTrainer(
              model, model.fullParameters(), SftSettings.forSteps(150, 32, 1e-3, 9), 0.01);
      double before = trainer.evaluate(HELD_OUT).get("accuracy");
      List<TrainingStep> history = trainer.train(TRAIN, List.of(), StepListener.NONE);
      Map<String, Double> after = trainer.evaluate(HELD_OUT);
      System.out.printf(
          "reward model (full): held-out accuracy %.3f -> %.3f, margin %.3f, rewards [%.2f, %.2f]%n",
          before,
          after.get("accuracy"),
          after.get("margin"),
          after.get("min_reward"),
          after.get("max_reward"));
      assertTrue(after.get("accuracy") >= 0.9, "held-out accuracy " + after);
      assertTrue(after.get("margin") > 0, "chosen outscore rejected on average");
      assertTrue(history.get(history.size() - 1).loss() < history.get(0).loss(), "the loss falls");
      for (String name :
          List.of(
              "accuracy",
              "rewards/chosen",
              "rewards/rejected",
              "margin",
              "mean_reward",
              "min_reward",
              "max_reward")) {
        assertTrue(history.get(0).figures().containsKey(name), name + " is logged");
      }

      Path saved = dir.resolve("reward-model");
      model.save(saved, sft);
      JsonObject config =
          JsonParser.parseString(Files.readString(saved.resolve("config.json"))).getAsJsonObject();
      assertEquals(
          "LlamaForSequenceClassification",
          config.getAsJsonArray("architectures").get(0).getAsString());
      assertEquals(1, config.get("num_labels").getAsInt());
      Map<String, ?> tensors = Safetensors.readHeader(saved.resolve("model.safetensors")).tensors();
      assertTrue(tensors.containsKey(RewardModel.SCORE));
      assertFalse(tensors.containsKey(WeightNames.LM_HEAD), "no LM head in a reward model");
      List<PreferencePair> some = HELD_OUT.subList(0, 8);
      List<int[]> prompts = some.stream().map(PreferencePair::prompt).toList();
      List<int[]> responses = some.stream().map(PreferencePair::chosen).toList();
      double[] original = model.score(prompts, responses, 4);
      try (RewardModel loaded = RewardModel.load(saved, Compute.CPU_FLOAT32, Projections.DENSE)) {
        assertArrayEquals(original, loaded.score(prompts, responses, 3), 1e-5);
      }
    }
  }

  @Test
  void aResumedRewardRunReplaysTheUninterruptedOne() {
    SftSettings settings = new SftSettings(1e-3, 16, 1, 6, 0, 1.0, "linear", 0, 0, 0, 1, 0, 5);
    List<PreferencePair> train = TRAIN.subList(0, 64);
    Path out = dir.resolve("rm-run");
    List<Double> uninterrupted = rewardRun(settings, train, null, null, Integer.MAX_VALUE);
    assertThrows(
        IllegalStateException.class,
        () -> rewardRun(settings, train, new SftRecipe.Checkpointing(out, 3, 0), null, 4));
    Path checkpoint = TrainerCheckpoint.latest(out).orElseThrow();
    List<Double> resumed =
        rewardRun(settings, train, new SftRecipe.Checkpointing(out, 3, 0), checkpoint, 99);
    assertEquals(uninterrupted, resumed);
  }

  /** Losses of a full reward-model run; a step numbered {@code crashAt} throws (a crash). */
  private static List<Double> rewardRun(
      SftSettings settings,
      List<PreferencePair> train,
      SftRecipe.Checkpointing checkpointing,
      Path resumeFrom,
      int crashAt) {
    try (LlamaModel backbone = LlamaModel.load(sft, Compute.CPU_FLOAT32, Projections.DENSE);
        RewardModel model = RewardModel.fromCausalLm(backbone, 3)) {
      List<TrainingStep> history =
          new RewardTrainer(model, model.fullParameters(), settings, 0)
              .train(
                  train,
                  List.of(),
                  p -> {
                    if (p.step() == crashAt) {
                      throw new IllegalStateException("crash");
                    }
                  },
                  checkpointing == null ? SftRecipe.Checkpointing.NONE : checkpointing,
                  resumeFrom);
      return history.stream().map(TrainingStep::loss).toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"lora", "qlora"})
  void adapterRewardModelLearnsWithTheBackboneFrozen(String method) {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(16, 32, 0.0, LoraSettings.ALL_LINEAR, false), 4);
    Projections base = method.equals("qlora") ? Nf4Linear.projections(64) : Projections.DENSE;
    try (LlamaModel backbone =
            LlamaModel.load(sft, Compute.CPU_FLOAT32, adapter.projections(base));
        RewardModel model = RewardModel.fromCausalLm(backbone, 3)) {
      Map<String, ai.djl.ndarray.NDArray> trainable = new LinkedHashMap<>(adapter.parameters());
      trainable.put(RewardModel.SCORE, model.head());
      float[] frozen = backbone.weights().get(WeightNames.EMBED_TOKENS).toFloatArray();
      RewardTrainer trainer =
          new RewardTrainer(model, trainable, SftSettings.forSteps(200, 32, 3e-3, 9), 0);
      trainer.train(TRAIN, List.of(), StepListener.NONE);
      double accuracy = trainer.evaluate(HELD_OUT).get("accuracy");
      System.out.printf("reward model (%s r=16): held-out accuracy %.3f%n", method, accuracy);
      assertTrue(accuracy >= 0.9, "held-out accuracy " + accuracy);
      assertArrayEquals(
          frozen,
          backbone.weights().get(WeightNames.EMBED_TOKENS).toFloatArray(),
          "the backbone is untouched");
    }
  }

  /**
   * An IA3 reward model (PEFT's Llama defaults, with the score head) learns the held-out preference
   * with the backbone frozen, its vectors move off 1, and merged into the backbone it saves as a
   * sequence-classification model that scores as the unmerged one did.
   */
  @Test
  void ia3RewardModelLearnsAndSavesMerged() throws Exception {
    dev.tuneforge.llm.adapter.ia3.Ia3Adapter adapter =
        dev.tuneforge.llm.adapter.ia3.Ia3Adapter.create(
            dev.tuneforge.llm.adapter.ia3.Ia3Settings.defaults("llama"));
    try (LlamaModel backbone =
            LlamaModel.load(sft, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
        RewardModel model = RewardModel.fromCausalLm(backbone, 3)) {
      Map<String, ai.djl.ndarray.NDArray> trainable = new LinkedHashMap<>(adapter.parameters());
      trainable.put(RewardModel.SCORE, model.head());
      RewardTrainer trainer =
          new RewardTrainer(model, trainable, SftSettings.forSteps(400, 32, 3e-2, 9), 0);
      double before = trainer.evaluate(HELD_OUT).get("accuracy");
      trainer.train(TRAIN, List.of(), StepListener.NONE);
      double accuracy = trainer.evaluate(HELD_OUT).get("accuracy");
      double moved =
          adapter.parameters().values().stream()
              .flatMap(
                  t -> {
                    float[] v = t.toFloatArray();
                    return java.util.stream.IntStream.range(0, v.length)
                        .mapToObj(k -> (double) Math.abs(v[k] - 1f));
                  })
              .mapToDouble(Double::doubleValue)
              .max()
              .orElse(0);
      System.out.printf(
          "reward model (ia3, %d vectors): held-out accuracy %.3f -> %.3f, largest |l - 1| %.3f%n",
          adapter.parameters().size(), before, accuracy, moved);
      assertTrue(accuracy >= 0.9, "held-out accuracy " + accuracy);
      assertTrue(moved > 1e-3, "the IA3 vectors trained: " + moved);
      List<PreferencePair> some = HELD_OUT.subList(0, 8);
      List<int[]> prompts = some.stream().map(PreferencePair::prompt).toList();
      List<int[]> responses = some.stream().map(PreferencePair::chosen).toList();
      double[] unmerged = model.score(prompts, responses, 4);
      adapter.merge();
      Path saved = dir.resolve("ia3-reward-model");
      model.save(saved, sft);
      try (RewardModel loaded = RewardModel.load(saved, Compute.CPU_FLOAT32, Projections.DENSE)) {
        assertMergedScoresAsUnmerged(unmerged, loaded.score(prompts, responses, 3));
      }
    }
  }

  @Test
  void adaLoraRewardModelAllocatesItsBudgetLearnsAndSavesMerged() throws Exception {
    var settings =
        new dev.tuneforge.llm.adapter.adalora.AdaLoraSettings(
            8,
            4,
            50,
            100,
            25,
            0.85,
            0.85,
            0.5,
            0,
            16,
            0.0,
            dev.tuneforge.llm.adapter.LoraSettings.ALL_LINEAR,
            Map.of());
    var adapter = dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter.create(settings, 3);
    try (LlamaModel backbone =
            LlamaModel.load(sft, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
        RewardModel model = RewardModel.fromCausalLm(backbone, 3)) {
      Map<String, ai.djl.ndarray.NDArray> trainable = new LinkedHashMap<>(adapter.parameters());
      trainable.put(RewardModel.SCORE, model.head());
      RewardTrainer trainer =
          new RewardTrainer(model, trainable, SftSettings.forSteps(400, 32, 1e-2, 9), 0)
              .withAdapterTraining(dev.tuneforge.llm.recipe.AdapterTraining.of(adapter));
      double before = trainer.evaluate(HELD_OUT).get("accuracy");
      trainer.train(TRAIN, List.of(), StepListener.NONE);
      double accuracy = trainer.evaluate(HELD_OUT).get("accuracy");
      long kept =
          adapter.rankPattern().values().stream()
              .mapToLong(k -> k.stream().filter(b -> b).count())
              .sum();
      System.out.printf(
          "reward model (AdaLoRA): held-out accuracy %.3f -> %.3f, ranks kept %d of %d%n",
          before, accuracy, kept, 8 * 14);
      assertTrue(accuracy >= 0.9, "held-out accuracy " + accuracy);
      assertEquals(4 * 14, kept, "the final pattern holds the target budget");
      List<PreferencePair> some = HELD_OUT.subList(0, 8);
      List<int[]> prompts = some.stream().map(PreferencePair::prompt).toList();
      List<int[]> responses = some.stream().map(PreferencePair::chosen).toList();
      double[] unmerged = model.score(prompts, responses, 4);
      adapter.merge();
      Path saved = dir.resolve("adalora-reward-model");
      model.save(saved, sft);
      try (RewardModel loaded = RewardModel.load(saved, Compute.CPU_FLOAT32, Projections.DENSE)) {
        assertMergedScoresAsUnmerged(unmerged, loaded.score(prompts, responses, 3));
      }
    }
  }

  /**
   * Merged equals unmerged up to float32 rounding, which grows with the scores: folding trained
   * scales (IA3's reach |l - 1| of about 5 here) into the weights reorders the products, and the
   * batches pad differently (4 against 3 rows). 1e-4, or 5e-5 of the score where it is larger.
   */
  private static void assertMergedScoresAsUnmerged(double[] unmerged, double[] merged) {
    assertEquals(unmerged.length, merged.length);
    for (int i = 0; i < unmerged.length; i++) {
      double tolerance = Math.max(1e-4, 5e-5 * Math.abs(unmerged[i]));
      assertEquals(unmerged[i], merged[i], tolerance, "score " + i);
    }
  }

  static final SftSettings VIRTUAL_TOKEN_STEPS = SftSettings.forSteps(600, 32, 0.1, 9);
  private static Double headOnly;

  /** Held-out accuracy of the score head trained alone on the frozen SFT backbone (a probe). */
  private static synchronized double headOnlyAccuracy() {
    if (headOnly == null) {
      try (LlamaModel backbone = LlamaModel.load(sft, Compute.CPU_FLOAT32, Projections.DENSE);
          RewardModel model = RewardModel.fromCausalLm(backbone, 3)) {
        Map<String, ai.djl.ndarray.NDArray> trainable = new LinkedHashMap<>();
        trainable.put(RewardModel.SCORE, model.head());
        RewardTrainer trainer = new RewardTrainer(model, trainable, VIRTUAL_TOKEN_STEPS, 0);
        trainer.train(TRAIN, List.of(), StepListener.NONE);
        headOnly = trainer.evaluate(HELD_OUT).get("accuracy");
      }
    }
    return headOnly;
  }

  /**
   * Prompt and prefix tuning train a reward model with the backbone frozen; as virtual tokens do
   * not merge, it is saved as PEFT saves a sequence-classification adapter (task_type SEQ_CLS, the
   * score head under its PEFT key) and opens over its base scoring as it trained.
   */
  @ParameterizedTest
  @ValueSource(strings = {"prompt", "prefix"})
  void virtualTokenRewardModelsLearnAndSaveAsSequenceClassificationAdapters(String method)
      throws Exception {
    dev.tuneforge.llm.adapter.Adapter adapter =
        method.equals("prompt")
            ? dev.tuneforge.llm.adapter.prompt.PromptTuningAdapter.create(
                new dev.tuneforge.llm.adapter.prompt.PromptTuningSettings(8, "RANDOM", null, null),
                null,
                3)
            : dev.tuneforge.llm.adapter.prefix.PrefixTuningAdapter.create(
                new dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings(8, false, 0), 3);
    try (LlamaModel backbone =
            LlamaModel.load(sft, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
        RewardModel model = RewardModel.fromCausalLm(backbone, 3)) {
      Map<String, ai.djl.ndarray.NDArray> trainable = new LinkedHashMap<>(adapter.parameters());
      trainable.put(RewardModel.SCORE, model.head());
      float[] virtualBefore = adapter.parameters().values().iterator().next().toFloatArray();
      RewardTrainer trainer = new RewardTrainer(model, trainable, VIRTUAL_TOKEN_STEPS, 0);
      double before = trainer.evaluate(HELD_OUT).get("accuracy");
      trainer.train(TRAIN, List.of(), StepListener.NONE);
      double accuracy = trainer.evaluate(HELD_OUT).get("accuracy");
      float[] virtualAfter = adapter.parameters().values().iterator().next().toFloatArray();
      double moved = 0;
      for (int i = 0; i < virtualAfter.length; i++) {
        moved = Math.max(moved, Math.abs(virtualAfter[i] - virtualBefore[i]));
      }
      List<PreferencePair> some = HELD_OUT.subList(0, 8);
      List<int[]> prompts = some.stream().map(PreferencePair::prompt).toList();
      List<int[]> responses = some.stream().map(PreferencePair::chosen).toList();
      double[] scores = model.score(prompts, responses, 4);
      adapter.setEnabled(false);
      double[] withoutTokens = model.score(prompts, responses, 4);
      adapter.setEnabled(true);
      double apart = 0;
      for (int i = 0; i < scores.length; i++) {
        apart = Math.max(apart, Math.abs(scores[i] - withoutTokens[i]));
      }
      System.out.printf(
          "reward model (%s tuning): held-out accuracy %.3f -> %.3f, largest virtual-token move"
              + " %.3f, scores without the tokens apart by up to %.3f%n",
          method, before, accuracy, moved, apart);
      double probe = headOnlyAccuracy();
      System.out.printf("  the score head alone, trained the same: %.3f%n", probe);
      // Prefix tuning reaches every layer's attention; prompt tuning only the first layer's input,
      // which on this two-layer backbone adds a little over the head alone.
      assertTrue(
          accuracy >= (method.equals("prefix") ? 0.95 : 0.7), "held-out accuracy " + accuracy);
      assertTrue(accuracy > probe + 0.02, "beats the head alone: " + accuracy + " vs " + probe);
      assertTrue(moved > 1e-3, "the virtual tokens trained: " + moved);
      assertTrue(apart > 1e-2, "the virtual tokens change the scores: " + apart);

      Path saved = dir.resolve(method + "-reward-adapter");
      RewardAdapter.save(model, adapter, saved, sft.toString(), sft);
      JsonObject config =
          JsonParser.parseString(Files.readString(saved.resolve("adapter_config.json")))
              .getAsJsonObject();
      assertEquals("SEQ_CLS", config.get("task_type").getAsString());
      assertEquals(
          List.of("classifier", "score"),
          config.getAsJsonArray("modules_to_save").asList().stream()
              .map(com.google.gson.JsonElement::getAsString)
              .toList());
      try (NDManager scope = model.backbone().manager().newSubManager()) {
        Map<String, ai.djl.ndarray.NDArray> tensors =
            dev.tuneforge.llm.adapter.PeftAdapters.tensors(saved, scope);
        assertEquals(
            java.util.Set.of("prompt_embeddings", "base_model.score.weight"), tensors.keySet());
      }
      try (RewardModel opened = RewardModel.open(saved, Path::of, Compute.CPU_FLOAT32)) {
        assertArrayEquals(scores, opened.score(prompts, responses, 3), 1e-4);
      }
      String refused =
          assertThrows(
                  IllegalArgumentException.class,
                  () ->
                      dev.tuneforge.llm.adapter.PeftAdapters.loadOnto(
                          sft, saved, Compute.CPU_FLOAT32))
              .getMessage();
      assertTrue(refused.contains("task_type SEQ_CLS"), refused);
    }
  }
}
