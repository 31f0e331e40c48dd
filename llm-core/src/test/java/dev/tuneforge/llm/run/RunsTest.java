package dev.tuneforge.llm.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.adalora.AdaLoraSettings;
import dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings;
import dev.tuneforge.llm.adapter.prompt.PromptTuningSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.preference.DpoTrainer;
import dev.tuneforge.llm.recipe.OptimizerSettings;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.TrainingStep;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The typed run layer: the combinations no method runs are refused when the job is made, the
 * optimizer settings of the job are the ones the optimizer uses, and every method stops at the stop
 * signal without writing a result.
 */
class RunsTest {
  @TempDir static Path dir;

  @BeforeAll
  static void data() throws Exception {
    TinyLlama.write(dir.resolve("base"), 3, TinyLlama.Size.DEFAULT);
    List<String> sft = new ArrayList<>();
    List<String> pairs = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      String word = "" + (char) ('A' + i % 7) + (char) ('A' + i % 5) + (char) ('A' + i % 3);
      String reversed = new StringBuilder(word).reverse().toString();
      sft.add("{\"prompt\":\"" + word + "=\",\"completion\":\"" + reversed + "\"}");
      pairs.add(
          "{\"prompt\":\""
              + word
              + "=\",\"chosen\":\""
              + reversed
              + "\",\"rejected\":\""
              + word
              + "\"}");
    }
    Files.write(dir.resolve("sft.jsonl"), sft);
    Files.write(dir.resolve("pairs.jsonl"), pairs);
  }

  private static TrainingJob job(
      String name, Parameterization parameterization, MethodSettings method, boolean packing) {
    return new TrainingJob(
        dir.resolve("base"),
        dir.resolve(method instanceof MethodSettings.Sft ? "sft.jsonl" : "pairs.jsonl"),
        null,
        dir.resolve("out-" + name),
        "cpu",
        7,
        null,
        parameterization,
        new SftSettings(1e-3, 4, 1, 4, 0, 1.0, "linear", 0.03, 0, 0.0, 1, 0, 7),
        OptimizerSettings.DEFAULT,
        new DataSettings(64, -1, packing, true, false, false),
        SaveSettings.NONE,
        method);
  }

  private static Parameterization adapted(dev.tuneforge.llm.adapter.AdapterSettings settings) {
    return new Parameterization.Adapted(Parameterization.BaseWeights.Dense.FLOAT32, settings);
  }

  @Test
  void combinationsNoMethodRunsAreRefusedWhenTheJobIsMade() {
    Parameterization prompt = adapted(new PromptTuningSettings(4, "RANDOM", null, null));
    Parameterization prefix = adapted(new PrefixTuningSettings(4, false, 0));
    Parameterization adalora = adapted(AdaLoraSettings.defaults(100));
    job( // fp16 with AdaLoRA: the allocation acts on the float32 masters
        "fp16",
        adalora,
        new MethodSettings.Sft(0, false, true, dev.tuneforge.llm.recipe.EvalPolicy.NONE),
        false);
    String packing =
        assertThrows(
                IllegalArgumentException.class,
                () -> job("packed", prefix, MethodSettings.Sft.DEFAULT, true))
            .getMessage();
    assertTrue(packing.contains("packing is not available with prefix tuning"), packing);
    job("ok", prefix, new MethodSettings.Dpo(DpoTrainer.Settings.DEFAULT), false); // DPO runs it
    job("ok-adalora", adalora, new MethodSettings.Dpo(DpoTrainer.Settings.DEFAULT), false);
  }

  private static byte[] trainedAdapter(String name, OptimizerSettings optimizer) throws Exception {
    TrainingJob base =
        job(
            name,
            adapted(new LoraSettings(4, 8, 0.0, LoraSettings.ALL_LINEAR, false)),
            MethodSettings.Sft.DEFAULT,
            false);
    TrainingJob job =
        new TrainingJob(
            base.model(),
            base.trainFile(),
            null,
            base.outputDir(),
            "cpu",
            base.seed(),
            null,
            base.parameterization(),
            base.trainer(),
            optimizer,
            base.data(),
            base.save(),
            base.method());
    Outcome outcome = Runs.run(job, null, RunHooks.quiet(new PrintWriter(new StringWriter())));
    assertFalse(outcome.stopped());
    return Files.readAllBytes(outcome.finalDir().resolve("adapter_model.safetensors"));
  }

  /**
   * Two runs with the same settings give the same adapter to the byte; changing only adam_beta1, or
   * only adam_epsilon, gives another: the job's optimizer settings are the optimizer's.
   */
  @Test
  void theJobsOptimizerSettingsAreTheOptimizers() throws Exception {
    byte[] first = trainedAdapter("adam-a", OptimizerSettings.DEFAULT);
    byte[] again = trainedAdapter("adam-b", OptimizerSettings.DEFAULT);
    assertTrue(java.util.Arrays.equals(first, again), "a run is deterministic");
    byte[] beta = trainedAdapter("adam-c", new OptimizerSettings(0.5, 0.999, 1e-8));
    byte[] epsilon = trainedAdapter("adam-d", new OptimizerSettings(0.9, 0.999, 1e-2));
    assertNotEquals(java.util.Arrays.hashCode(first), java.util.Arrays.hashCode(beta));
    assertFalse(java.util.Arrays.equals(first, beta), "adam_beta1 reaches AdamW");
    assertFalse(java.util.Arrays.equals(first, epsilon), "adam_epsilon reaches AdamW");
  }

  /** A rule reward: longer responses score higher (enough to drive a few PPO steps). */
  private static final dev.tuneforge.llm.rl.TextReward LENGTH =
      (prompts, responses) -> responses.stream().mapToDouble(r -> r.length() / 10.0).toArray();

  private static void promptsFile() throws Exception {
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      prompts.add("{\"prompt\":\"" + (char) ('A' + i % 7) + (char) ('A' + i % 5) + "=\"}");
    }
    Files.write(dir.resolve("prompts.jsonl"), prompts);
  }

  private static TrainingJob on(TrainingJob job, String trainFile) {
    return on(job, trainFile, job.save());
  }

  /** {@code job} on {@code trainFile}, checkpointing as {@code save} says. */
  private static TrainingJob on(TrainingJob job, String trainFile, SaveSettings save) {
    return new TrainingJob(
        job.model(),
        dir.resolve(trainFile),
        null,
        job.outputDir(),
        job.device(),
        job.seed(),
        null,
        job.parameterization(),
        job.trainer(),
        job.optimizer(),
        job.data(),
        save,
        job.method());
  }

  /**
   * The pairs the gateway now accepts beyond LoRA run end to end: a reward model with IA3 (merged
   * into the backbone it is saved with), PPO with IA3, prompt and prefix tuning (the reference is
   * the adapter switched off; rollouts and values see the virtual tokens as the policy does) and
   * Best-of-N fine-tuning prompt tuning on its best samples.
   */
  @Test
  void rewardModelAndPpoWithIa3AndBestOfNWithPromptTuningRun() throws Exception {
    promptsFile();
    Parameterization ia3 = adapted(dev.tuneforge.llm.adapter.ia3.Ia3Settings.defaults("llama"));
    Outcome reward =
        Runs.run(
            job("rm-ia3", ia3, new MethodSettings.RewardModel(0), false),
            null,
            RunHooks.quiet(new PrintWriter(new StringWriter())));
    assertFalse(reward.adapter(), "a reward model is saved whole");
    String config = Files.readString(reward.finalDir().resolve("config.json"));
    assertTrue(config.contains("LlamaForSequenceClassification"), config);
    try (dev.tuneforge.llm.rl.RewardScorer scorer =
        dev.tuneforge.llm.rl.RewardScorer.load(reward.finalDir())) {
      double[] scores = scorer.score(List.of("AB=", "AB="), List.of("BA", "AB"));
      assertEquals(2, scores.length);
      assertTrue(Double.isFinite(scores[0]) && Double.isFinite(scores[1]));
    }

    Outcome ppo =
        Runs.run(
            on(
                job(
                    "ppo-ia3",
                    ia3,
                    new MethodSettings.Ppo(
                        dev.tuneforge.llm.rl.PpoSettings.defaults(2, 4, 1e-2, 7), LENGTH),
                    false),
                "prompts.jsonl"),
            null,
            RunHooks.quiet(new PrintWriter(new StringWriter())));
    assertTrue(ppo.adapter());
    assertEquals(2, ppo.lastStep());
    assertTrue(Files.readString(ppo.finalDir().resolve("adapter_config.json")).contains("\"IA3\""));

    for (Parameterization virtual :
        List.of(
            adapted(new PromptTuningSettings(4, "RANDOM", null, null)),
            adapted(new PrefixTuningSettings(3, false, 0)))) {
      Outcome tuned =
          Runs.run(
              on(
                  job(
                      "ppo-" + ((Parameterization.Adapted) virtual).adapter().peftType(),
                      virtual,
                      new MethodSettings.Ppo(
                          dev.tuneforge.llm.rl.PpoSettings.defaults(2, 4, 1e-2, 7), LENGTH),
                      false),
                  "prompts.jsonl"),
              null,
              RunHooks.quiet(new PrintWriter(new StringWriter())));
      assertTrue(tuned.adapter());
      assertEquals(2, tuned.lastStep());
      assertTrue(Double.isFinite(tuned.last().figures().get("objective/kl")));
    }

    Outcome best =
        Runs.run(
            on(
                job(
                    "bon-prompt",
                    adapted(new PromptTuningSettings(4, "RANDOM", null, null)),
                    new MethodSettings.BestOfN(
                        new MethodSettings.BestOfNSettings(2, 1.0, 0, 1.0, 4, 7),
                        LENGTH,
                        MethodSettings.Sft.DEFAULT),
                    false),
                "prompts.jsonl"),
            null,
            RunHooks.quiet(new PrintWriter(new StringWriter())));
    assertTrue(best.adapter());
    assertTrue(Files.exists(best.finalDir().resolve(Runs.BEST_OF_N_SAMPLES)));
    assertTrue(
        Files.readString(best.finalDir().resolve("adapter_config.json"))
            .contains("\"PROMPT_TUNING\""));
  }

  private static final dev.tuneforge.llm.preference.OnlineDpoTrainer.Settings ONLINE =
      new dev.tuneforge.llm.preference.OnlineDpoTrainer.Settings(
          0.1, dev.tuneforge.llm.preference.PreferenceLosses.DpoLoss.SIGMOID, 4, 1.0, 0.5);

  /**
   * Online DPO through the run layer, judged by a reward on prompt-only data: a LoRA or QLoRA
   * policy is saved as a PEFT adapter and a full one as a Hugging Face model, each with TRL's
   * figures; a run resumed from its checkpoint ends as the uninterrupted one, and the stop signal
   * leaves no result.
   */
  @Test
  void onlineDpoRunsResumesAndStops() throws Exception {
    promptsFile();
    PrintWriter quiet = new PrintWriter(new StringWriter());
    MethodSettings method = new MethodSettings.OnlineDpo(ONLINE, LENGTH);
    Outcome lora =
        Runs.run(
            on(
                job("online-lora", adapted(LoraSettings.defaults()), method, false),
                "prompts.jsonl"),
            null,
            RunHooks.quiet(quiet));
    assertTrue(lora.adapter());
    assertEquals(4, lora.lastStep());
    assertTrue(Files.readString(lora.finalDir().resolve("adapter_config.json")).contains("LORA"));
    for (String name :
        List.of("objective/kl", "objective/scores", "rewards/margins", "val/contain_eos_token")) {
      assertTrue(Double.isFinite(lora.last().figures().get(name)), name + ": " + lora.last());
    }
    Outcome qlora =
        Runs.run(
            on(
                job(
                    "online-qlora",
                    new Parameterization.Adapted(
                        new Parameterization.BaseWeights.Nf4(
                            64, false, ai.djl.ndarray.types.DataType.FLOAT32),
                        LoraSettings.defaults()),
                    method,
                    false),
                "prompts.jsonl"),
            null,
            RunHooks.quiet(quiet));
    assertTrue(qlora.adapter(), "QLoRA's result is its LoRA adapter");
    assertTrue(Double.isFinite(qlora.last().figures().get("objective/kl")));
    Outcome full =
        Runs.run(
            on(job("online-full", new Parameterization.Full(), method, false), "prompts.jsonl"),
            null,
            RunHooks.quiet(quiet));
    assertFalse(full.adapter());
    assertTrue(Files.exists(full.finalDir().resolve("config.json")));

    TrainingJob saved =
        on(
            job("online-resumed", adapted(LoraSettings.defaults()), method, false),
            "prompts.jsonl",
            new SaveSettings(2, 0));
    assertThrows(
        dev.tuneforge.llm.recipe.Crash.class,
        () ->
            Runs.run(
                saved,
                null,
                new RunHooks(dev.tuneforge.llm.recipe.Crash.at(3), d -> {}, () -> false, quiet)));
    Path second =
        dev.tuneforge.llm.recipe.TrainerCheckpoint.latest(saved.outputDir()).orElseThrow();
    assertEquals("checkpoint-2", second.getFileName().toString());
    Outcome resumed = Runs.run(saved, second, RunHooks.quiet(quiet));
    assertEquals(lora.last().loss(), resumed.last().loss(), "the resumed run ends as the first");
    assertEquals(
        new java.util.TreeMap<>(lora.last().figures()),
        new java.util.TreeMap<>(resumed.last().figures()));

    List<TrainingStep> steps = new ArrayList<>();
    Outcome stopped =
        Runs.run(
            on(
                job("online-stopped", adapted(LoraSettings.defaults()), method, false),
                "prompts.jsonl"),
            null,
            new RunHooks(steps::add, d -> {}, () -> steps.size() >= 2, quiet));
    assertTrue(stopped.stopped());
    assertEquals(2, steps.size());
    assertFalse(Files.exists(stopped.finalDir()));
  }

  /**
   * Data generation through the run layer, by the base model: Self-Instruct from seed tasks and
   * Constitutional AI from prompts log each round or batch, checkpoint their state, resume after a
   * crash to the uninterrupted result, and write the manifest last; an adapter is refused.
   */
  @Test
  void selfInstructAndConstitutionalAiJobsGenerateResumeAndRefuseAdapters() throws Exception {
    promptsFile();
    Files.write(
        dir.resolve("seeds.jsonl"),
        List.of(
            "{\"instruction\":\"Reverse the word.\",\"input\":\"ABC\",\"output\":\"CBA\"}",
            "{\"instruction\":\"Repeat the word twice.\",\"input\":\"AB\",\"output\":\"ABAB\"}"));
    MethodSettings.Sampling sampling = new MethodSettings.Sampling(12, 1.0, 1.0);
    List<MethodSettings> methods =
        List.of(
            new MethodSettings.SelfInstructData(
                new dev.tuneforge.llm.synth.SelfInstruct.Settings(
                    50, 3, 2, 2, 1, 0.7, 1, 50, List.of(), 7),
                sampling),
            new MethodSettings.ConstitutionalAiData(
                dev.tuneforge.llm.synth.ConstitutionalAi.DEFAULT_CONSTITUTION, 4, sampling));
    PrintWriter quiet = new PrintWriter(new StringWriter());
    for (MethodSettings method : methods) {
      boolean selfInstruct = method instanceof MethodSettings.SelfInstructData;
      String data = selfInstruct ? "seeds.jsonl" : "prompts.jsonl";
      String name = selfInstruct ? "self-instruct" : "cai";
      List<TrainingStep> steps = new ArrayList<>();
      Outcome whole =
          Runs.run(
              on(
                  job(name, new Parameterization.Full(), method, false),
                  data,
                  new SaveSettings(1, 0)),
              null,
              new RunHooks(steps::add, d -> {}, () -> false, quiet));
      assertFalse(whole.stopped());
      assertEquals(selfInstruct ? 3 : 4, steps.size(), name + ": a step per round or batch");
      assertTrue(dev.tuneforge.llm.synth.SynthOutput.complete(whole.finalDir()), name);
      String output =
          selfInstruct
              ? dev.tuneforge.llm.synth.SelfInstruct.OUTPUT
              : dev.tuneforge.llm.synth.ConstitutionalAi.PREFERENCE_OUTPUT;
      TrainingJob crashing =
          on(
              job(name + "-crash", new Parameterization.Full(), method, false),
              data,
              new SaveSettings(1, 0));
      assertThrows(
          dev.tuneforge.llm.recipe.Crash.class,
          () ->
              Runs.run(
                  crashing,
                  null,
                  new RunHooks(dev.tuneforge.llm.recipe.Crash.at(2), d -> {}, () -> false, quiet)));
      assertFalse(
          Files.exists(
              Policy.finalDir(crashing).resolve(dev.tuneforge.llm.synth.SynthOutput.MANIFEST)));
      Path checkpoint = crashing.outputDir().resolve("checkpoint-1");
      assertTrue(Files.isDirectory(checkpoint), name);
      java.nio.file.Files.walk(crashing.outputDir().resolve("generation"))
          .sorted(java.util.Comparator.reverseOrder())
          .forEach(p -> p.toFile().delete()); // the crashed replica's disk is gone
      Outcome resumed = Runs.run(crashing, checkpoint, RunHooks.quiet(quiet));
      assertEquals(
          Files.readString(whole.finalDir().resolve(output)),
          Files.readString(resumed.finalDir().resolve(output)),
          name + ": the resumed run writes what the uninterrupted one did");
      assertEquals(
          Files.readString(whole.finalDir().resolve("stats.json")),
          Files.readString(resumed.finalDir().resolve("stats.json")));
      String adapter =
          assertThrows(
                  IllegalArgumentException.class,
                  () -> job(name + "-lora", adapted(LoraSettings.defaults()), method, false))
              .getMessage();
      assertTrue(adapter.contains("trains nothing"), adapter);
    }
  }

  /**
   * AdaLoRA runs in every loop, not only SFT's: DPO and PPO save a PEFT AdaLoRA adapter with the
   * rank pattern their own allocation reached (the run's optimizer updates as its total_step), and
   * a reward model is merged into the backbone it is saved with.
   */
  @Test
  void adaLoraRunsInDpoRewardModelAndPpo() throws Exception {
    promptsFile();
    Parameterization adalora =
        adapted(
            new AdaLoraSettings(
                4,
                2,
                0,
                0,
                1,
                0.85,
                0.85,
                0.5,
                0,
                8,
                0.0,
                AdaLoraSettings.DEFAULT_TARGETS,
                java.util.Map.of()));
    List<Outcome> adapters = new ArrayList<>();
    adapters.add(
        Runs.run(
            job("dpo-adalora", adalora, new MethodSettings.Dpo(DpoTrainer.Settings.DEFAULT), false),
            null,
            RunHooks.quiet(new PrintWriter(new StringWriter()))));
    adapters.add(
        Runs.run(
            on(
                job(
                    "ppo-adalora",
                    adalora,
                    new MethodSettings.Ppo(
                        dev.tuneforge.llm.rl.PpoSettings.defaults(2, 4, 1e-2, 7), LENGTH),
                    false),
                "prompts.jsonl"),
            null,
            RunHooks.quiet(new PrintWriter(new StringWriter()))));
    for (Outcome outcome : adapters) {
      assertTrue(outcome.adapter());
      com.google.gson.JsonObject config =
          com.google.gson.JsonParser.parseString(
                  Files.readString(outcome.finalDir().resolve("adapter_config.json")))
              .getAsJsonObject();
      assertEquals("ADALORA", config.get("peft_type").getAsString());
      com.google.gson.JsonObject pattern = config.getAsJsonObject("rank_pattern");
      assertEquals(4, pattern.size(), "2 layers x q_proj, v_proj: " + pattern);
      long kept =
          pattern.entrySet().stream()
              .flatMap(e -> e.getValue().getAsJsonArray().asList().stream())
              .filter(com.google.gson.JsonElement::getAsBoolean)
              .count();
      assertEquals(2 * 4, kept, "the budget target_r x modules: " + pattern);
    }
    Outcome reward =
        Runs.run(
            job("rm-adalora", adalora, new MethodSettings.RewardModel(0), false),
            null,
            RunHooks.quiet(new PrintWriter(new StringWriter())));
    assertFalse(reward.adapter(), "a reward model is saved whole");
    try (dev.tuneforge.llm.rl.RewardScorer scorer =
        dev.tuneforge.llm.rl.RewardScorer.load(reward.finalDir())) {
      double[] scores = scorer.score(List.of("AB="), List.of("BA"));
      assertTrue(Double.isFinite(scores[0]));
    }
  }

  /**
   * Reward models with prompt tuning or QLoRA run through the run layer and come out as PEFT
   * sequence-classification adapters (virtual tokens and NF4 codes do not merge), which the reward
   * scorer opens over the base its config names.
   */
  @Test
  void promptTuningAndQloraRewardModelsAreSavedAsAdaptersAndScore() throws Exception {
    for (Parameterization parameterization :
        List.of(
            adapted(new PromptTuningSettings(4, "RANDOM", null, null)),
            new Parameterization.Adapted(
                new Parameterization.BaseWeights.Nf4(
                    64, false, ai.djl.ndarray.types.DataType.FLOAT32),
                new LoraSettings(4, 8, 0.0, LoraSettings.ALL_LINEAR, false)))) {
      String peft = ((Parameterization.Adapted) parameterization).adapter().peftType();
      Outcome reward =
          Runs.run(
              job("rm-" + peft, parameterization, new MethodSettings.RewardModel(0), false),
              null,
              RunHooks.quiet(new PrintWriter(new StringWriter())));
      assertTrue(reward.adapter(), peft + " saved as an adapter");
      String config = Files.readString(reward.finalDir().resolve("adapter_config.json"));
      assertTrue(config.contains("\"SEQ_CLS\"") && config.contains(peft), config);
      try (dev.tuneforge.llm.rl.RewardScorer scorer =
          dev.tuneforge.llm.rl.RewardScorer.load(reward.finalDir())) {
        double[] scores = scorer.score(List.of("AB=", "AB="), List.of("BA", "AB"));
        assertTrue(Double.isFinite(scores[0]) && Double.isFinite(scores[1]), peft);
      }
    }
  }

  /**
   * The stop signal ends every method before its next step: no result is written, the outcome says
   * stopped, and the steps already taken were reported through the one listener.
   */
  @Test
  void theStopSignalEndsDpoAndRewardModelRunsWithoutAResult() {
    for (MethodSettings method :
        List.of(
            new MethodSettings.Dpo(DpoTrainer.Settings.DEFAULT),
            new MethodSettings.RewardModel(0))) {
      String name = method.getClass().getSimpleName();
      TrainingJob job = job(name, adapted(LoraSettings.defaults()), method, false);
      List<TrainingStep> steps = new ArrayList<>();
      AtomicInteger polls = new AtomicInteger();
      Outcome outcome =
          Runs.run(
              job,
              null,
              new RunHooks(
                  steps::add,
                  d -> {},
                  () -> steps.size() >= 2 && polls.incrementAndGet() > 0,
                  new PrintWriter(new StringWriter())));
      assertTrue(outcome.stopped(), name);
      assertEquals(2, steps.size(), name + ": steps before the stop");
      assertEquals(4, steps.get(0).totalSteps(), name);
      assertFalse(Files.exists(outcome.finalDir()), name + ": no result after a stop");
    }
  }
}
