package dev.tuneforge.llm.run;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.Adapter;
import dev.tuneforge.llm.data.PreferenceDataset;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.judge.Judge;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.WeightNames;
import dev.tuneforge.llm.preference.OnlineDpoTrainer;
import dev.tuneforge.llm.preference.Reference;
import dev.tuneforge.llm.recipe.AdapterTraining;
import dev.tuneforge.llm.recipe.TrainingStep;
import dev.tuneforge.llm.rl.BestOfN;
import dev.tuneforge.llm.rl.PpoTrainer;
import dev.tuneforge.llm.rl.ValueHead;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reward-driven training on prompt-only JSONL ({@code {"prompt": string or messages}}): PPO, online
 * DPO and Best-of-N. The reward is a {@link dev.tuneforge.llm.rl.TextReward} (a local reward model,
 * or reward-service behind the trainer).
 *
 * <ul>
 *   <li>PPO: the policy (full or an adapter) and a value head are trained against the reward with a
 *       KL penalty to the reference (the adapter disabled, or a frozen copy); the policy is saved
 *       as SFT's is (PEFT adapter, or HF model), the value head is not (as TRL).
 *   <li>Online DPO: the policy samples two completions per prompt, the reward model judges them,
 *       and the DPO loss against the reference trains the better over the worse; saved as PPO's.
 *   <li>Best-of-N (rejection sampling): the base samples N responses per prompt, the reward ranks
 *       them, and the best of each prompt is the SFT data of an ordinary run; {@value
 *       Runs#BEST_OF_N_SAMPLES} (every candidate and its score) is saved with the result.
 * </ul>
 */
final class RewardDrivenRun {
  private RewardDrivenRun() {}

  /** A policy to train (full, or an adapter over its base) and its reference. */
  private record Trained(Adapter adapter, LlamaModel policy, Reference reference)
      implements AutoCloseable {
    static Trained load(TrainingJob job, Tokenizer tokenizer) {
      Adapter adapter = job.parameterization().newAdapter(tokenizer, job.seed());
      LlamaModel policy =
          LlamaModel.load(job.model(), job.compute(), job.parameterization().projections(adapter));
      try {
        Reference reference =
            adapter != null
                ? Reference.adapterDisabled(policy, adapter)
                : Reference.frozen(
                    LlamaModel.load(
                        job.model(), job.compute(), job.parameterization().baseProjections()));
        return new Trained(adapter, policy, reference);
      } catch (RuntimeException e) {
        policy.close();
        throw e;
      }
    }

    java.util.Map<String, ai.djl.ndarray.NDArray> trainable() {
      return adapter == null ? policy.weights() : adapter.parameters();
    }

    /** The stopped run's outcome, or the saved result's with the last step's figures. */
    Outcome finish(TrainingJob job, List<TrainingStep> history, RunHooks hooks) {
      if (hooks.stop().getAsBoolean()) {
        return Outcome.stopped(Policy.finalDir(job), adapter != null);
      }
      Policy.saveFinal(job, policy, adapter);
      TrainingStep end = history.get(history.size() - 1);
      return new Outcome(Policy.finalDir(job), adapter != null, end, end.figures(), false);
    }

    @Override
    public void close() {
      try {
        reference.close();
      } finally {
        policy.close();
      }
    }
  }

  private static List<int[]> promptsLogged(TrainingJob job, Tokenizer tokenizer, RunHooks hooks) {
    List<int[]> prompts = prompts(job, tokenizer);
    hooks.log().printf("prompt-only dataset: %d prompts%n", prompts.size());
    hooks.log().flush();
    return prompts;
  }

  /** Online DPO with the job's reward model, or its judge model, as the judge. */
  static Outcome onlineDpo(
      TrainingJob job, MethodSettings.OnlineDpo online, Path resumeFrom, RunHooks hooks) {
    try (Tokenizer tokenizer = Tokenizer.load(job.model());
        JudgeModel judgeModel = JudgeModel.load(online.judging(), job)) {
      List<int[]> prompts = promptsLogged(job, tokenizer, hooks);
      Judge judge =
          judgeModel == null
              ? Judge.pointwise(
                  ((MethodSettings.Judging.ByReward) online.judging()).reward().over(tokenizer))
              : judgeModel.judge(tokenizer);
      try (Trained trained = Trained.load(job, tokenizer)) {
        List<TrainingStep> history =
            new OnlineDpoTrainer(
                    trained.policy(),
                    trained.trainable(),
                    job.trainer(),
                    online.settings(),
                    trained.reference(),
                    judge)
                .withOptimizer(job.optimizer())
                .withStopSignal(hooks.stop())
                .withAdapterTraining(AdapterTraining.of(trained.adapter()))
                .train(
                    prompts,
                    List.of(),
                    hooks.listener(),
                    Policy.checkpointing(job, trained.adapter(), hooks),
                    resumeFrom);
        return trained.finish(job, history, hooks);
      }
    }
  }

  /** PPO against the job's reward. */
  static Outcome ppo(TrainingJob job, MethodSettings.Ppo ppo, Path resumeFrom, RunHooks hooks) {
    try (Tokenizer tokenizer = Tokenizer.load(job.model())) {
      List<int[]> prompts = promptsLogged(job, tokenizer, hooks);
      try (Trained trained = Trained.load(job, tokenizer)) {
        Adapter adapter = trained.adapter();
        LlamaModel policy = trained.policy();
        ValueHead valueHead =
            ValueHead.create(
                policy.manager(),
                policy.config().hiddenSize(),
                policy.weights().get(WeightNames.EMBED_TOKENS).getDataType(),
                job.seed());
        List<TrainingStep> history =
            new PpoTrainer(
                    policy,
                    trained.trainable(),
                    valueHead,
                    trained.reference(),
                    ppo.reward().over(tokenizer),
                    ppo.settings())
                .withOptimizer(job.optimizer())
                .withSchedule(
                    job.trainer().lrSchedulerType(),
                    job.trainer().warmupRatio(),
                    job.trainer().warmupSteps(),
                    job.trainer().weightDecay())
                .withStopSignal(hooks.stop())
                .withAdapterTraining(AdapterTraining.of(adapter))
                .train(
                    prompts,
                    hooks.listener(),
                    Policy.checkpointing(job, adapter, hooks),
                    resumeFrom);
        return trained.finish(job, history, hooks);
      }
    }
  }

  /**
   * Best-of-N rejection sampling, then SFT of the job's parameterisation on each prompt's best
   * response. The sampling is seeded, so a resumed run draws the same candidates before it
   * continues the SFT.
   */
  static Outcome bestOfN(
      TrainingJob job, MethodSettings.BestOfN bestOfN, Path resumeFrom, RunHooks hooks) {
    Path output = job.outputDir();
    List<BestOfN.Ranked> ranked = rank(job, bestOfN);
    Path sftData = writeSamples(lines(job.trainFile()), ranked, output);
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
            bestOfN.settings().n(),
            ranked.size(),
            figures.get("best_of_n/mean_score"),
            figures.get("best_of_n/mean_best_score"));
    hooks.log().flush();
    Outcome sft =
        SftRun.run(
            job.with(sftData, bestOfN.then()),
            bestOfN.then(),
            resumeFrom,
            new RunHooks(
                step -> hooks.listener().onStep(step.withFigures(figures)),
                hooks.onCheckpoint(),
                hooks.stop(),
                hooks.log()));
    if (sft.stopped()) {
      return sft;
    }
    try {
      Files.copy(
          output.resolve(Runs.BEST_OF_N_SAMPLES),
          sft.finalDir().resolve(Runs.BEST_OF_N_SAMPLES),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot keep " + Runs.BEST_OF_N_SAMPLES + " with the result", e);
    }
    Map<String, Double> metrics = new LinkedHashMap<>(figures);
    metrics.put("loss", sft.last().loss());
    return new Outcome(
        sft.finalDir(), sft.adapter(), sft.last().withFigures(figures), metrics, false);
  }

  /** N samples of every prompt from the base model, ranked by the reward. */
  private static List<BestOfN.Ranked> rank(TrainingJob job, MethodSettings.BestOfN bestOfN) {
    MethodSettings.BestOfNSettings settings = bestOfN.settings();
    try (Tokenizer tokenizer = Tokenizer.load(job.model());
        LlamaModel base = LlamaModel.load(job.model(), job.compute(), Projections.DENSE)) {
      GenerationConfig sampling =
          GenerationConfig.greedy(
                  settings.maxNewTokens(), new HashSet<>(base.config().eosTokenIds()))
              .withSampling(
                  settings.temperature(), settings.topK(), settings.topP(), settings.seed());
      return new BestOfN(base, tokenizer, bestOfN.reward().over(tokenizer))
          .rank(
              prompts(job, tokenizer),
              settings.n(),
              sampling,
              Math.max(1, job.trainer().batchSize()));
    }
  }

  /**
   * Writes {@value Runs#BEST_OF_N_SAMPLES} (every candidate and score) and the SFT data of the best
   * responses into {@code output}; returns the SFT data's path.
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
      Files.write(output.resolve(Runs.BEST_OF_N_SAMPLES), sampleLines);
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

  private static List<int[]> prompts(TrainingJob job, Tokenizer tokenizer) {
    PreferenceDataset.Options options =
        new PreferenceDataset.Options(
            job.data().promptLimit(), job.data().maxSeqLength(), job.template(tokenizer));
    return PreferenceDataset.parsePrompts(lines(job.trainFile()), tokenizer, options);
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
