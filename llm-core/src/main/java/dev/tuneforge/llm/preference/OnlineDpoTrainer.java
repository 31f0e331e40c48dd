package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.judge.Judge;
import dev.tuneforge.llm.judge.Verdicts;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import dev.tuneforge.llm.recipe.TrainingStep;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Online DPO (Guo et al., 2024), AI feedback in place of human preferences, as TRL's
 * OnlineDPOTrainer runs it: per batch of prompts the policy samples two completions each, a {@link
 * Judge} says which is better (a reward model, an LLM, a rule), and the DPO loss of (better, worse)
 * is taken against the reference (the disabled adapter, or a frozen copy). The loop, resume and
 * checkpoints are the pairwise trainer's: sampling draws its seed from the step's seeded generator,
 * so a resumed run samples what the uninterrupted one did.
 *
 * <p>Pairs the judge gave no verdict on are not trained on ({@code judge/no_verdict}). With a
 * pointwise judge, {@code missing_eos_penalty} is subtracted from the score of a completion that
 * did not end, and ties go to the first completion, as in TRL.
 *
 * <p>Figures, with TRL's names: {@code objective/kl}, {@code objective/entropy}, {@code
 * objective/non_score_reward}, {@code objective/scores}, {@code objective/scores_margin} and {@code
 * objective/rlhf_reward} (pointwise judges), {@code rewards/*}, {@code logps/*}, {@code
 * val/contain_eos_token}, {@code beta}; and {@code judge/no_verdict}, {@code judge/unparseable},
 * {@code judge/inconsistent}.
 */
public final class OnlineDpoTrainer {
  /**
   * TRL's OnlineDPOConfig settings.
   *
   * @param beta the KL leash to the reference (TRL default 0.1)
   * @param lossType sigmoid or ipo
   * @param maxNewTokens the most tokens a completion may have (TRL default 64)
   * @param temperature sampling temperature (TRL default 0.9)
   * @param missingEosPenalty subtracted from a pointwise judge's score of a completion without EOS;
   *     0 for none
   */
  public record Settings(
      double beta,
      PreferenceLosses.DpoLoss lossType,
      int maxNewTokens,
      double temperature,
      double missingEosPenalty) {
    public Settings {
      java.util.Objects.requireNonNull(lossType, "loss_type");
      if (maxNewTokens < 1) {
        throw new IllegalArgumentException("max_new_tokens must be >= 1 but was " + maxNewTokens);
      }
      if (!(temperature > 0)) {
        throw new IllegalArgumentException("temperature must be > 0 but was " + temperature);
      }
      if (!(missingEosPenalty >= 0) || Double.isInfinite(missingEosPenalty)) {
        throw new IllegalArgumentException(
            "missing_eos_penalty must be finite and >= 0 but was " + missingEosPenalty);
      }
    }

    DpoTrainer.Settings dpo() {
      return new DpoTrainer.Settings(beta, lossType, 0);
    }
  }

  private final LlamaModel policy;
  private final Map<String, NDArray> trainable;
  private final Settings settings;
  private final Judge judge;
  private final DpoPairLoss loss;
  private final PairwiseTrainer<int[]> trainer;
  private final Set<Integer> stopIds;

  public OnlineDpoTrainer(
      LlamaModel policy,
      Map<String, NDArray> trainable,
      SftSettings sft,
      Settings settings,
      Reference reference,
      Judge judge) {
    if (settings.missingEosPenalty() > 0 && !judge.pointwise()) {
      throw new IllegalArgumentException(
          "missing_eos_penalty lowers a judge's scores, and this judge gives verdicts, not scores;"
              + " leave it unset or judge with a reward model");
    }
    this.policy = policy;
    this.trainable = trainable;
    this.settings = settings;
    this.judge = judge;
    this.loss = new DpoPairLoss(policy, settings.dpo(), reference);
    this.stopIds = Set.copyOf(policy.config().eosTokenIds());
    this.trainer =
        new PairwiseTrainer<>(
            policy.manager(),
            trainable,
            sft,
            new PairwiseTrainer.PairLoss<int[]>() {
              @Override
              public PairwiseTrainer.Step compute(List<int[]> prompts, NDManager scope) {
                return step(prompts, scope, 0);
              }

              @Override
              public PairwiseTrainer.Step computeAndBackward(
                  List<int[]> prompts, NDManager scope, float scale) {
                return step(prompts, scope, scale);
              }
            });
  }

  /** AdamW's betas and epsilon (transformers' defaults until set). */
  public OnlineDpoTrainer withOptimizer(dev.tuneforge.llm.recipe.OptimizerSettings optimizer) {
    trainer.withOptimizer(optimizer);
    return this;
  }

  /** The adapter's part in the loop (AdaLoRA's penalty and rank allocation). */
  public OnlineDpoTrainer withAdapterTraining(
      dev.tuneforge.llm.recipe.AdapterTraining adapterTraining) {
    trainer.withAdapterTraining(adapterTraining);
    return this;
  }

  /** Stops the run before the next step once {@code stop} answers true (a cancel). */
  public OnlineDpoTrainer withStopSignal(java.util.function.BooleanSupplier stop) {
    trainer.withStopSignal(stop);
    return this;
  }

  /** Trains on prompt-only data (prompt token ids, BOS and any chat markers included). */
  public List<TrainingStep> train(List<int[]> prompts, List<int[]> eval, StepListener listener) {
    return trainer.train(prompts, eval, listener);
  }

  /** As {@link #train(List, List, StepListener)}, checkpointing and resuming. */
  public List<TrainingStep> train(
      List<int[]> prompts,
      List<int[]> eval,
      StepListener listener,
      SftRecipe.Checkpointing checkpointing,
      Path resumeFrom) {
    return trainer.train(prompts, eval, listener, checkpointing, resumeFrom);
  }

  /** The figures of one judged batch per {@code batchSize} held-out prompts, without training. */
  public Map<String, Double> evaluate(List<int[]> prompts) {
    return trainer.evaluate(prompts);
  }

  /**
   * One sampled completion per prompt (at the settings' temperature and length, seeded), without
   * recording a graph: what the policy answers now.
   */
  public static List<Generated> sample(
      LlamaModel model, List<int[]> prompts, Settings settings, long seed) {
    GenerationConfig config =
        GenerationConfig.greedy(settings.maxNewTokens(), Set.copyOf(model.config().eosTokenIds()))
            .withSampling(settings.temperature(), 0, 1.0, seed);
    return Autograd.withGrad(
        false,
        () -> new Generator(model, null).generate(prompts, config, Generator.TokenListener.NONE));
  }

  private PairwiseTrainer.Step step(List<int[]> prompts, NDManager scope, float scale) {
    int n = prompts.size();
    long seed = scope.randomInteger(0, Integer.MAX_VALUE, new Shape(1), DataType.INT64).getLong();
    List<int[]> twice = new ArrayList<>(prompts);
    twice.addAll(prompts);
    List<Generated> completions = sample(policy, twice, settings, seed);
    float[] eos = new float[2 * n];
    for (int i = 0; i < 2 * n; i++) {
      eos[i] = "stop".equals(completions.get(i).finishReason()) ? 1 : 0;
    }
    List<int[]> first = completions.subList(0, n).stream().map(Generated::tokens).toList();
    List<int[]> second = completions.subList(n, 2 * n).stream().map(Generated::tokens).toList();
    Verdicts verdicts = judged(prompts, first, second, eos);
    Metrics metrics = new Metrics().mean("val/contain_eos_token", eos);
    List<PreferencePair> pairs = new ArrayList<>();
    List<double[]> pairScores = new ArrayList<>();
    float[] noVerdict = new float[n];
    for (int i = 0; i < n; i++) {
      int better = verdicts.better()[i];
      if (better == Judge.NO_VERDICT) {
        noVerdict[i] = 1;
        continue;
      }
      int[] chosen = better == 0 ? first.get(i) : second.get(i);
      int[] rejected = better == 0 ? second.get(i) : first.get(i);
      pairs.add(new PreferencePair(prompts.get(i), chosen, rejected));
      if (verdicts.firstScores() != null) {
        double a = verdicts.firstScores()[i];
        double b = verdicts.secondScores()[i];
        pairScores.add(better == 0 ? new double[] {a, b} : new double[] {b, a});
      }
    }
    metrics
        .mean("judge/no_verdict", noVerdict)
        .mean("judge/unparseable", ones(verdicts.unparseable(), n))
        .mean("judge/inconsistent", ones(verdicts.inconsistent(), n));
    if (pairs.isEmpty()) {
      return new PairwiseTrainer.Step(noGradient(scope, scale), metrics, 0);
    }
    DpoPairLoss.Result result = loss.compute(pairs, scope, scale);
    metrics.addAll(result.step().metrics());
    objective(result, pairScores, metrics);
    return new PairwiseTrainer.Step(result.step().loss(), metrics, result.step().tokens());
  }

  /** The judge's verdicts, the missing-EOS penalty applied to a pointwise judge's scores. */
  private Verdicts judged(List<int[]> prompts, List<int[]> first, List<int[]> second, float[] eos) {
    Verdicts verdicts = judge.judge(prompts, first, second);
    if (verdicts.better().length != prompts.size()) {
      throw new IllegalStateException(
          "the judge gave " + verdicts.better().length + " verdicts for " + prompts.size());
    }
    if (verdicts.firstScores() == null || settings.missingEosPenalty() == 0) {
      return verdicts;
    }
    int n = prompts.size();
    double[] a = verdicts.firstScores().clone();
    double[] b = verdicts.secondScores().clone();
    for (int i = 0; i < n; i++) {
      a[i] -= eos[i] == 0 ? settings.missingEosPenalty() : 0;
      b[i] -= eos[n + i] == 0 ? settings.missingEosPenalty() : 0;
    }
    return Verdicts.ofScores(a, b);
  }

  /** TRL's objective/* figures over the trained completions (chosen ones, then rejected). */
  private void objective(DpoPairLoss.Result result, List<double[]> pairScores, Metrics metrics) {
    int m = result.policy().length / 2;
    float[] kl = new float[2 * m];
    float[] entropy = new float[2 * m];
    float[] nonScore = new float[2 * m];
    for (int i = 0; i < 2 * m; i++) {
      kl[i] = result.policy()[i] - result.reference()[i];
      entropy[i] = -result.policy()[i];
      nonScore[i] = (float) (-settings.beta() * kl[i]);
    }
    metrics
        .mean("objective/kl", kl)
        .mean("objective/entropy", entropy)
        .mean("objective/non_score_reward", nonScore)
        .mean("beta", new float[] {(float) settings.beta()});
    if (pairScores.isEmpty()) {
      return;
    }
    float[] scores = new float[2 * m];
    float[] margins = new float[m];
    float[] rlhf = new float[2 * m];
    for (int i = 0; i < m; i++) {
      scores[i] = (float) pairScores.get(i)[0];
      scores[m + i] = (float) pairScores.get(i)[1];
      margins[i] = scores[i] - scores[m + i];
    }
    for (int i = 0; i < 2 * m; i++) {
      rlhf[i] = scores[i] + nonScore[i];
    }
    metrics
        .mean("objective/scores", scores)
        .mean("objective/scores_margin", margins)
        .mean("objective/rlhf_reward", rlhf);
  }

  /** A zero loss whose backward gives every trainable tensor a zero gradient. */
  private NDArray noGradient(NDManager scope, float scale) {
    NDArray zero = scope.zeros(new Shape());
    if (scale > 0) {
      for (NDArray p : trainable.values()) {
        NDArray term = p.sum().mul(0f);
        term.attach(scope);
        zero = zero.add(term);
      }
      Autograd.backward(zero);
    }
    return zero;
  }

  private static float[] ones(int count, int of) {
    float[] values = new float[of];
    java.util.Arrays.fill(values, 0, count, 1f);
    return values;
  }
}
