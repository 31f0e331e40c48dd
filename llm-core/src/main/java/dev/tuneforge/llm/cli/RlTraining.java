package dev.tuneforge.llm.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.data.PreferenceDataset;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.WeightNames;
import dev.tuneforge.llm.preference.Reference;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.rl.BestOfN;
import dev.tuneforge.llm.rl.PpoSettings;
import dev.tuneforge.llm.rl.PpoTrainer;
import dev.tuneforge.llm.rl.TextReward;
import dev.tuneforge.llm.rl.ValueHead;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Reward-driven training of one {@link TrainSpec} on prompt-only JSONL ({@code {"prompt": string or
 * messages}}): the trainer service's path for PPO and Best-of-N. The reward is a {@link TextReward}
 * (a local reward model, or reward-service behind the trainer).
 *
 * <ul>
 *   <li>PPO: the policy (full or an adapter) and a value head are trained against the reward with a
 *       KL penalty to the reference (the adapter disabled, or a frozen copy); the policy is saved
 *       as SFT's is (PEFT adapter, or HF model), the value head is not (as TRL).
 *   <li>Best-of-N (rejection sampling): the base samples N responses per prompt, the reward ranks
 *       them, and the best of each prompt is the SFT data of an ordinary run; {@value #SAMPLES}
 *       (every candidate and its score) is saved with the result.
 * </ul>
 */
public final class RlTraining {
  /** The Best-of-N ranking kept with the result, one line per prompt. */
  public static final String SAMPLES = "best_of_n.jsonl";

  /** Each logged step's figures. */
  @FunctionalInterface
  public interface StepListener {
    void onStep(long step, long totalSteps, Map<String, Double> metrics);
  }

  /** What the caller sees while it runs (see {@link LocalTraining.Hooks}). */
  public record Hooks(
      StepListener listener, Consumer<Path> onCheckpoint, BooleanSupplier stop, PrintWriter log) {}

  /** Where the result went, the last logged step and its figures, or that it was stopped. */
  public record Outcome(
      Path finalDir,
      boolean adapter,
      long lastStep,
      Map<String, Double> lastMetrics,
      boolean stopped) {}

  /** Best-of-N sampling: N candidates per prompt, drawn with these settings until EOS. */
  public record BestOfNSettings(
      int n, double temperature, int topK, double topP, int maxNewTokens, long seed) {}

  private RlTraining() {}

  /** PPO with {@code settings} (see {@link PpoSettings}) against {@code reward}. */
  public static Outcome ppo(
      TrainSpec job, PpoSettings settings, TextReward reward, Path resumeFrom, Hooks hooks) {
    if (job.method.equals("prompt") || job.method.equals("prefix")) {
      throw new IllegalArgumentException(
          "PPO with " + job.method + " tuning is not available; use lora, qlora, ia3 or full");
    }
    Path modelDir = Path.of(job.model);
    Path output = Path.of(job.outputDir);
    try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
      List<int[]> prompts = prompts(job, tokenizer);
      hooks.log().printf("prompt-only dataset: %d prompts%n", prompts.size());
      dev.tuneforge.llm.adapter.Adapter adapter = job.newAdapter(tokenizer);
      if (adapter != null && adapter.trainingHooks().isPresent()) {
        throw new IllegalArgumentException(
            adapter.peftType()
                + " shapes its own training (rank allocation) and is trained by SFT only; use"
                + " lora, qlora or ia3 here");
      }
      try (LlamaModel policy = LlamaModel.load(modelDir, job.compute(), job.projections(adapter));
          Reference reference =
              adapter != null
                  ? Reference.adapterDisabled(policy, adapter)
                  : Reference.frozen(
                      LlamaModel.load(modelDir, job.compute(), job.baseProjections()))) {
        ValueHead valueHead =
            ValueHead.create(
                policy.manager(),
                policy.config().hiddenSize(),
                policy.weights().get(WeightNames.EMBED_TOKENS).getDataType(),
                job.seed);
        PpoTrainer trainer =
            new PpoTrainer(
                policy,
                adapter == null ? policy.weights() : adapter.parameters(),
                valueHead,
                reference,
                reward.over(tokenizer),
                settings);
        Path last = output.resolve("final");
        List<PpoTrainer.Progress> history;
        try {
          history =
              trainer.train(
                  prompts,
                  p -> {
                    hooks.listener().onStep(p.step(), p.totalSteps(), p.metrics());
                    if (hooks.stop().getAsBoolean()) {
                      throw new PreferenceTraining.StopRequested();
                    }
                  },
                  checkpointing(job, adapter, hooks),
                  resumeFrom);
        } catch (PreferenceTraining.StopRequested stop) {
          return new Outcome(last, adapter != null, 0, Map.of(), true);
        }
        if (adapter != null) {
          adapter.save(last, job.model);
        } else {
          policy.save(last);
          PreferenceTraining.copyTokenizer(modelDir, last);
        }
        PpoTrainer.Progress end = history.get(history.size() - 1);
        return new Outcome(last, adapter != null, end.step(), end.metrics(), false);
      }
    }
  }

  /**
   * Best-of-N rejection sampling, then SFT of the job's method on each prompt's best response. The
   * sampling is seeded, so a resumed run draws the same candidates before it continues the SFT.
   */
  public static Outcome bestOfN(
      TrainSpec job, BestOfNSettings bestOfN, TextReward reward, Path resumeFrom, Hooks hooks) {
    Path output = Path.of(job.outputDir);
    List<BestOfN.Ranked> ranked = rank(job, bestOfN, reward);
    Path sftData = writeSamples(lines(job.trainFile), ranked, output);
    Map<String, Double> figures = new LinkedHashMap<>();
    figures.put(
        "best_of_n/mean_best_score",
        ranked.stream().mapToDouble(r -> r.best().score()).average().orElse(Double.NaN));
    figures.put(
        "best_of_n/mean_score",
        ranked.stream()
            .flatMap(r -> r.candidates().stream())
            .mapToDouble(BestOfN.Candidate::score)
            .average()
            .orElse(Double.NaN));
    hooks
        .log()
        .printf(
            "best-of-%d: %d prompts, mean score %.4f, mean best %.4f%n",
            bestOfN.n(),
            ranked.size(),
            figures.get("best_of_n/mean_score"),
            figures.get("best_of_n/mean_best_score"));
    hooks.log().flush();
    job.trainFile = sftData.toString();
    LocalTraining.Outcome sft =
        LocalTraining.run(
            job,
            resumeFrom,
            new LocalTraining.Hooks(
                p -> {
                  Map<String, Double> metrics = new LinkedHashMap<>(figures);
                  metrics.put("loss", p.loss());
                  metrics.put("learning_rate", p.learningRate());
                  hooks.listener().onStep(p.step(), p.totalSteps(), metrics);
                },
                hooks.onCheckpoint(),
                hooks.stop(),
                hooks.log()));
    if (sft.stopped()) {
      return new Outcome(sft.finalDir(), sft.adapter(), 0, Map.of(), true);
    }
    try {
      Files.copy(
          output.resolve(SAMPLES),
          sft.finalDir().resolve(SAMPLES),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep " + SAMPLES + " with the result", e);
    }
    SftRecipe.Progress end = sft.history().get(sft.history().size() - 1);
    Map<String, Double> metrics = new LinkedHashMap<>(figures);
    metrics.put("loss", end.loss());
    return new Outcome(sft.finalDir(), sft.adapter(), end.step(), metrics, false);
  }

  /** N samples of every prompt from the base model, ranked by {@code reward}. */
  private static List<BestOfN.Ranked> rank(
      TrainSpec job, BestOfNSettings bestOfN, TextReward reward) {
    Path modelDir = Path.of(job.model);
    try (Tokenizer tokenizer = Tokenizer.load(modelDir);
        LlamaModel base = LlamaModel.load(modelDir, job.compute(), Projections.DENSE)) {
      GenerationConfig sampling =
          GenerationConfig.greedy(
                  bestOfN.maxNewTokens(), new HashSet<>(base.config().eosTokenIds()))
              .withSampling(bestOfN.temperature(), bestOfN.topK(), bestOfN.topP(), bestOfN.seed());
      return new BestOfN(base, tokenizer, reward.over(tokenizer))
          .rank(
              prompts(job, tokenizer),
              bestOfN.n(),
              sampling,
              Math.max(1, job.perDeviceTrainBatchSize));
    }
  }

  /**
   * Writes {@value #SAMPLES} (every candidate and score) and the SFT data of the best responses
   * into {@code output}; returns the SFT data's path.
   */
  private static Path writeSamples(List<String> lines, List<BestOfN.Ranked> ranked, Path output) {
    List<String> sampleLines = new ArrayList<>();
    List<String> sftLines = new ArrayList<>();
    int next = 0;
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      BestOfN.Ranked r = ranked.get(next++);
      JsonObject record = JsonParser.parseString(line).getAsJsonObject();
      JsonArray candidates = new JsonArray();
      for (BestOfN.Candidate c : r.candidates()) {
        JsonObject candidate = new JsonObject();
        candidate.addProperty("text", c.text());
        candidate.addProperty("score", c.score());
        candidate.addProperty("finish_reason", c.finishReason());
        candidates.add(candidate);
      }
      JsonObject sample = new JsonObject();
      sample.add("prompt", record.get("prompt"));
      sample.addProperty("best", r.best().text());
      sample.addProperty("best_score", r.best().score());
      sample.add("candidates", candidates);
      sampleLines.add(sample.toString());
      sftLines.add(sftRecord(record, r.best().text()).toString());
    }
    Path sftData = output.resolve("best_of_n.sft.jsonl");
    try {
      Files.createDirectories(output);
      Files.write(output.resolve(SAMPLES), sampleLines);
      Files.write(sftData, sftLines);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the Best-of-N samples to " + output, e);
    }
    return sftData;
  }

  /** The SFT record of a prompt and its best response, in the prompt's own shape. */
  private static JsonObject sftRecord(JsonObject record, String best) {
    JsonObject out = new JsonObject();
    if (record.get("prompt").isJsonArray()) {
      JsonArray messages = record.getAsJsonArray("prompt").deepCopy();
      JsonObject answer = new JsonObject();
      answer.addProperty("role", "assistant");
      answer.addProperty("content", best);
      messages.add(answer);
      out.add("messages", messages);
    } else {
      out.add("prompt", record.get("prompt"));
      out.addProperty("completion", best);
    }
    return out;
  }

  private static SftRecipe.Checkpointing checkpointing(
      TrainSpec job, dev.tuneforge.llm.adapter.Adapter adapter, Hooks hooks) {
    return new SftRecipe.Checkpointing(
        Path.of(job.outputDir),
        job.saveSteps,
        job.saveTotalLimit,
        dir -> {
          if (adapter != null) {
            adapter.save(dir.resolve("adapter"), job.model);
          }
          hooks.onCheckpoint().accept(dir);
        });
  }

  private static List<int[]> prompts(TrainSpec job, Tokenizer tokenizer) {
    PreferenceDataset.Options options =
        new PreferenceDataset.Options(job.promptLimit(), job.maxSeqLength, job.template(tokenizer));
    return PreferenceDataset.parsePrompts(lines(job.trainFile), tokenizer, options);
  }

  private static List<String> lines(String file) {
    try {
      return Files.readAllLines(Path.of(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
