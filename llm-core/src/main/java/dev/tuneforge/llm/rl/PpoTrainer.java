package dev.tuneforge.llm.rl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.reflect.TypeToken;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.optim.AdamW;
import dev.tuneforge.llm.optim.GradientClipping;
import dev.tuneforge.llm.optim.LrSchedule;
import dev.tuneforge.llm.preference.Metrics;
import dev.tuneforge.llm.preference.Reference;
import dev.tuneforge.llm.preference.SequenceBatch;
import dev.tuneforge.llm.recipe.DataOrder;
import dev.tuneforge.llm.recipe.DivergenceGuard;
import dev.tuneforge.llm.recipe.OptimizerSettings;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.StepListener;
import dev.tuneforge.llm.recipe.StepSeeds;
import dev.tuneforge.llm.recipe.TrainerCheckpoint;
import dev.tuneforge.llm.recipe.TrainingStep;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * RLHF with PPO as TRL's PPOTrainer runs it. Each step: sample responses to a batch of prompts,
 * score them with a {@link RewardFunction}, compute log-probabilities and values, turn the score
 * and a per-token KL penalty against the {@link Reference} into per-token rewards, estimate
 * advantages with GAE, then run {@code num_ppo_epochs} epochs of clipped-surrogate updates over
 * mini-batches (policy loss, clipped value loss and an entropy bonus). Dropout stays off, as TRL
 * disables it for PPO, so the rollout and update forwards agree.
 *
 * <p>Figures, with TRL's names: {@code objective/kl}, {@code objective/entropy}, {@code
 * objective/non_score_reward}, {@code objective/rlhf_reward}, {@code objective/scores}, {@code
 * policy/approxkl_avg}, {@code policy/clipfrac_avg}, {@code policy/entropy_avg}, {@code
 * loss/policy_avg}, {@code loss/value_avg}, {@code val/clipfrac_avg}, {@code val/num_eos_tokens},
 * plus {@code objective/kl_coef}, rollout throughput and the time split of the step.
 */
public final class PpoTrainer {
  /** Sampled responses to held-out prompts: mean score, mean KL to the reference, mean length. */
  public record Evaluation(double meanScore, double meanKl, double meanLength) {}

  private static final Gson GSON = new Gson();
  private final LlamaModel policy;
  private final ValueHead valueHead;
  private final Reference reference;
  private final RewardFunction reward;
  private final PpoSettings settings;
  private final Map<String, NDArray> trainable;
  private final KlController kl;
  private final int padId;
  private final Set<Integer> stopIds;

  /**
   * @param policyParameters what trains in the policy: its weights (full) or an adapter's
   */
  public PpoTrainer(
      LlamaModel policy,
      Map<String, NDArray> policyParameters,
      ValueHead valueHead,
      Reference reference,
      RewardFunction reward,
      PpoSettings settings) {
    this.policy = policy;
    this.valueHead = valueHead;
    this.reference = reference;
    this.reward = reward;
    this.settings = settings;
    Map<String, NDArray> all = new LinkedHashMap<>(policyParameters);
    all.putAll(valueHead.parameters());
    this.trainable = Collections.unmodifiableMap(all);
    trainable.values().forEach(p -> p.setRequiresGradient(true));
    this.kl =
        settings.targetKl() == null
            ? KlController.fixed(settings.klCoef())
            : KlController.adaptive(settings.klCoef(), settings.targetKl(), settings.klHorizon());
    this.padId = Math.max(policy.config().padTokenId(), 0);
    this.stopIds = Set.copyOf(policy.config().eosTokenIds());
  }

  /** AdamW's betas and epsilon (epsilon 1e-5 until set, {@link OptimizerSettings#PPO}). */
  public PpoTrainer withOptimizer(OptimizerSettings optimizer) {
    this.optimizerSettings = java.util.Objects.requireNonNull(optimizer);
    return this;
  }

  private OptimizerSettings optimizerSettings = OptimizerSettings.PPO;

  private String lrSchedulerType = "linear";
  private double warmupRatio;
  private int warmupSteps;
  private double weightDecay;

  /**
   * transformers' learning-rate schedule ({@code lr_scheduler_type}, {@code warmup_ratio}, {@code
   * warmup_steps} over the PPO steps) and AdamW's weight decay; linear without warm-up or decay
   * until set.
   */
  public PpoTrainer withSchedule(
      String lrSchedulerType, double warmupRatio, int warmupSteps, double weightDecay) {
    new LrSchedule(lrSchedulerType, 0, 1); // its names, refused by name
    this.lrSchedulerType = lrSchedulerType;
    this.warmupRatio = warmupRatio;
    this.warmupSteps = warmupSteps;
    this.weightDecay = weightDecay;
    return this;
  }

  /** The step being run (1-based) and where its checkpoints go: what a divergence names. */
  private long currentStep;

  private SftRecipe.Checkpointing checkpointing = SftRecipe.Checkpointing.NONE;

  /**
   * Stops the run before the next step once {@code stop} answers true (a cancel); the steps done so
   * far are returned.
   */
  public PpoTrainer withStopSignal(java.util.function.BooleanSupplier stop) {
    this.stopSignal = java.util.Objects.requireNonNull(stop);
    return this;
  }

  private java.util.function.BooleanSupplier stopSignal = () -> false;

  private dev.tuneforge.llm.recipe.AdapterTraining adapterTraining =
      dev.tuneforge.llm.recipe.AdapterTraining.NONE;

  /**
   * The adapter's part in the loop (AdaLoRA's penalty and rank allocation), counted in optimizer
   * updates: {@code max_steps × ppo_epochs × batch_size / mini_batch_size} of them.
   */
  public PpoTrainer withAdapterTraining(dev.tuneforge.llm.recipe.AdapterTraining adapterTraining) {
    this.adapterTraining = java.util.Objects.requireNonNull(adapterTraining);
    return this;
  }

  public double klCoefficient() {
    return kl.value();
  }

  public List<TrainingStep> train(List<int[]> prompts, StepListener listener) {
    return train(prompts, listener, SftRecipe.Checkpointing.NONE, null);
  }

  /**
   * Runs max_steps PPO steps over {@code prompts} (token ids); checkpoints every save_steps and,
   * with {@code resumeFrom}, continues exactly as the uninterrupted run would: policy and value
   * head, optimizer moments, the KL coefficient, the prompt order and the sampling seeds.
   */
  public List<TrainingStep> train(
      List<int[]> prompts,
      StepListener listener,
      SftRecipe.Checkpointing checkpointing,
      Path resumeFrom) {
    if (prompts.size() < settings.batchSize()) {
      throw new IllegalArgumentException(
          prompts.size() + " prompts, fewer than batch_size " + settings.batchSize());
    }
    this.checkpointing = checkpointing;
    DataOrder order = new DataOrder(prompts, settings.seed(), 0);
    List<TrainingStep> history = new ArrayList<>();
    long firstStep = 0;
    long updatesPerStep =
        (long) settings.numPpoEpochs() * (settings.batchSize() / settings.miniBatchSize());
    // The schedule advances once per optimizer update; warm-up is counted in PPO steps, as TRL's.
    LrSchedule schedule =
        new LrSchedule(
            lrSchedulerType,
            LrSchedule.warmup(warmupSteps, warmupRatio, settings.maxSteps()) * updatesPerStep,
            settings.maxSteps() * updatesPerStep);
    adapterTraining.start(settings.maxSteps() * updatesPerStep);
    try (AdamW optimizer = new AdamW(optimizerSettings.adamW(weightDecay), policy.manager())) {
      if (resumeFrom != null) {
        TrainerCheckpoint.State state = TrainerCheckpoint.state(resumeFrom);
        try (NDManager scope = policy.manager().newSubManager()) {
          TrainerCheckpoint.restoreTrainable(resumeFrom, trainable, scope);
          optimizer.restore(
              TrainerCheckpoint.optimizer(resumeFrom, scope), state.globalStep() * updatesPerStep);
        }
        order.seek(state.dataEpoch(), state.dataCursor());
        adapterTraining.resume(resumeFrom);
        kl.restore(state.extra().get("kl_coef").getAsDouble());
        history.addAll(
            GSON.fromJson(
                state.extra().get("ppo_history"),
                new TypeToken<List<TrainingStep>>() {}.getType()));
        firstStep = state.globalStep();
      }
      for (long step = firstStep; step < settings.maxSteps(); step++) {
        if (stopSignal.getAsBoolean()) {
          break;
        }
        @SuppressWarnings("unchecked")
        List<int[]> batch = (List<int[]>) order.next(settings.batchSize());
        Map<String, Double> metrics = step(step, batch, optimizer, schedule, updatesPerStep);
        boolean log =
            settings.loggingSteps() > 0 && (step + 1) % settings.loggingSteps() == 0
                || step + 1 == settings.maxSteps();
        if (log) {
          // the loss is the policy loss; lr and grad norm are those of the step's last update
          TrainingStep progress =
              new TrainingStep(
                  step + 1,
                  settings.maxSteps(),
                  (double) (step + 1) * settings.batchSize() / Math.max(1, prompts.size()),
                  metrics.getOrDefault("loss/policy_avg", 0.0),
                  metrics.getOrDefault("learning_rate", 0.0),
                  metrics.getOrDefault("grad_norm", 0.0),
                  metrics.getOrDefault("rollout/tokens_per_second", 0.0),
                  0,
                  metrics,
                  Map.of());
          history.add(progress);
          listener.onStep(progress);
        }
        JsonObject extra = new JsonObject();
        extra.addProperty("kl_coef", kl.value());
        extra.add("ppo_history", GSON.toJsonTree(history));
        TrainerCheckpoint.saveIfDue(
            checkpointing,
            step + 1,
            order,
            settings.seed(),
            extra,
            trainable,
            optimizer.state(),
            adapterTraining);
      }
    }
    return history;
  }

  /** What one rollout batch holds, per response token. */
  private record Rollout(
      List<int[]> prompts,
      List<int[]> responses,
      double[] scores,
      boolean[] endedWithEos,
      double[][] logProbs,
      double[][] referenceLogProbs,
      double[][] values) {}

  private Map<String, Double> step(
      long step, List<int[]> prompts, AdamW optimizer, LrSchedule schedule, long updatesPerStep) {
    long stepSeed = StepSeeds.apply(settings.seed(), step);
    currentStep = step + 1;
    long start = System.nanoTime();
    List<Generated> generated = sample(prompts, stepSeed);
    long generatedAt = System.nanoTime();
    List<int[]> responses = generated.stream().map(Generated::tokens).toList();
    boolean[] eos = new boolean[prompts.size()];
    double[] scores = reward.score(prompts, responses);
    for (int i = 0; i < eos.length; i++) {
      eos[i] = "stop".equals(generated.get(i).finishReason());
      if (!eos[i]) {
        scores[i] -= settings.missingEosPenalty();
      }
    }
    long scoredAt = System.nanoTime();
    Rollout rollout = rollout(prompts, responses, scores, eos);
    long forwardAt = System.nanoTime();

    // Per-token rewards: -β·KL at every token, plus the score at the last one.
    int rows = prompts.size();
    double beta = kl.value();
    double[][] rewards = new double[rows][];
    double[] klSums = new double[rows];
    double[] entropySums = new double[rows];
    for (int r = 0; r < rows; r++) {
      int length = responses.get(r).length;
      rewards[r] = new double[length];
      for (int t = 0; t < length; t++) {
        double k =
            settings.klEstimator().of(rollout.logProbs()[r][t], rollout.referenceLogProbs()[r][t]);
        klSums[r] += k;
        entropySums[r] -= rollout.logProbs()[r][t];
        rewards[r][t] = -beta * k;
      }
    }
    double[] nonScore = new double[rows];
    for (int r = 0; r < rows; r++) {
      nonScore[r] = -beta * klSums[r];
    }
    if (settings.whitenRewards()) {
      rewards = PpoLosses.whiten(rewards, false);
    }
    for (int r = 0; r < rows; r++) {
      rewards[r][rewards[r].length - 1] += scores[r];
    }
    double[][] advantages = new double[rows][];
    double[][] returns = new double[rows][];
    for (int r = 0; r < rows; r++) {
      advantages[r] =
          PpoLosses.gae(rewards[r], rollout.values()[r], settings.gamma(), settings.lam());
      returns[r] = new double[advantages[r].length];
      for (int t = 0; t < returns[r].length; t++) {
        returns[r][t] = advantages[r][t] + rollout.values()[r][t];
      }
    }
    advantages = PpoLosses.whiten(advantages, true);

    Metrics update = new Metrics();
    long updateIndex = step * updatesPerStep;
    for (int epoch = 0; epoch < settings.numPpoEpochs(); epoch++) {
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < rows; i++) {
        order.add(i);
      }
      Collections.shuffle(order, new Random(settings.seed() * 7919 + step * 31 + epoch));
      for (int from = 0; from < rows; from += settings.miniBatchSize()) {
        List<Integer> indices = order.subList(from, from + settings.miniBatchSize());
        double lr = settings.learningRate() * schedule.multiplier(updateIndex++);
        update.addAll(update(rollout, indices, advantages, returns, optimizer, lr, updateIndex));
      }
    }
    long updatedAt = System.nanoTime();
    kl.update(mean(klSums), rows);

    int responseTokens = responses.stream().mapToInt(r -> r.length).sum();
    double[] rlhf = new double[rows];
    for (int r = 0; r < rows; r++) {
      rlhf[r] = scores[r] + nonScore[r];
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("objective/kl", mean(klSums));
    metrics.put("objective/entropy", mean(entropySums));
    metrics.put("objective/non_score_reward", mean(nonScore));
    metrics.put("objective/rlhf_reward", mean(rlhf));
    metrics.put("objective/scores", mean(scores));
    metrics.putAll(update.values());
    int eosCount = 0;
    for (boolean e : eos) {
      eosCount += e ? 1 : 0;
    }
    metrics.put("val/num_eos_tokens", (double) eosCount);
    metrics.put("objective/kl_coef", beta);
    metrics.put("rollout/response_length", (double) responseTokens / rows);
    metrics.put("rollout/tokens_per_second", responseTokens / seconds(start, generatedAt));
    metrics.put("time/generation_s", seconds(start, generatedAt));
    metrics.put("time/scoring_s", seconds(generatedAt, scoredAt));
    metrics.put("time/rollout_forward_s", seconds(scoredAt, forwardAt));
    metrics.put("time/optimization_s", seconds(forwardAt, updatedAt));
    return metrics;
  }

  private static double seconds(long from, long to) {
    return (to - from) / 1e9;
  }

  private static double mean(double[] values) {
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return sum / values.length;
  }

  /** Samples one response per prompt from the policy, without recording a graph. */
  private List<Generated> sample(List<int[]> prompts, long seed) {
    GenerationConfig config =
        new GenerationConfig(
            settings.responseLength(),
            true,
            settings.temperature(),
            0,
            1.0,
            1.0,
            stopIds,
            List.of(),
            seed,
            true);
    return Autograd.withGrad(
        false,
        () -> new Generator(policy, null).generate(prompts, config, Generator.TokenListener.NONE));
  }

  /** Log-probabilities under policy and reference, and values, of every sampled token. */
  private Rollout rollout(
      List<int[]> prompts, List<int[]> responses, double[] scores, boolean[] eos) {
    int rows = prompts.size();
    double[][] logProbs = new double[rows][];
    double[][] referenceLogProbs = new double[rows][];
    double[][] values = new double[rows][];
    for (int from = 0; from < rows; from += settings.miniBatchSize()) {
      int to = Math.min(rows, from + settings.miniBatchSize());
      SequenceBatch batch =
          SequenceBatch.of(prompts.subList(from, to), responses.subList(from, to), padId);
      try (NDManager scope = policy.manager().newSubManager()) {
        int offset = from;
        Autograd.withGrad(
            false,
            () -> {
              NDArray ids = batch.idsArray(scope);
              NDArray mask = batch.maskArray(scope);
              NDArray index = RolloutTensors.responseIndex(batch, scope);
              NDArray hidden = policy.hiddenStates(ids, mask);
              Tokens policyTokens = tokens(responseLogits(hidden, index), ids, index, false);
              NDArray valueArray = valueHead.values(hidden).gather(index, 1);
              Tokens referenceTokens =
                  tokens(reference.logitsAt(ids, mask, index), ids, index, false);
              double[][] lp = RolloutTensors.unpad(policyTokens.logProbs(), batch);
              double[][] ref = RolloutTensors.unpad(referenceTokens.logProbs(), batch);
              double[][] v = RolloutTensors.unpad(valueArray, batch);
              for (int i = 0; i < lp.length; i++) {
                logProbs[offset + i] = lp[i];
                referenceLogProbs[offset + i] = ref[i];
                values[offset + i] = v[i];
              }
              return null;
            });
      }
    }
    return new Rollout(prompts, responses, scores, eos, logProbs, referenceLogProbs, values);
  }

  /** Per response token: its log-probability and (optionally) the entropy where it was drawn. */
  private record Tokens(NDArray logProbs, NDArray entropy) {}

  /**
   * The policy's logits at the positions that predict response tokens only, (rows, width, vocab):
   * the LM head never runs on prompt positions, where whole-batch logits took rows × length ×
   * vocabulary floats (twice, with the log-softmax).
   */
  private NDArray responseLogits(NDArray hidden, NDArray index) {
    return policy.logits(Reference.atPositions(hidden, index));
  }

  /**
   * {@code logits} (rows, width, vocab) at the response positions {@code index}: each response
   * token's log-probability (position t predicts token t + 1) and optionally the entropy there.
   */
  private Tokens tokens(NDArray logits, NDArray ids, NDArray index, boolean withEntropy) {
    NDManager scope = ids.getManager();
    NDArray scaled = logits;
    if (settings.temperature() != 1.0) {
      scaled = scaled.div(scope.full(new Shape(), (float) settings.temperature()));
    }
    NDArray logSoftmax = scaled.logSoftmax(-1); // (rows, width, vocab)
    NDArray next = ids.get(":, 1:").gather(index, 1).expandDims(-1); // the predicted tokens
    NDArray tokenLogProbs = logSoftmax.gather(next, -1).squeeze(-1);
    NDArray entropy = withEntropy ? PpoLosses.entropy(logSoftmax) : null;
    return new Tokens(tokenLogProbs, entropy);
  }

  /** One optimizer update on a mini-batch of rollouts. */
  private Metrics update(
      Rollout rollout,
      List<Integer> indices,
      double[][] advantages,
      double[][] returns,
      AdamW optimizer,
      double lr,
      long updateNumber) {
    List<int[]> prompts = indices.stream().map(i -> rollout.prompts().get(i)).toList();
    List<int[]> responses = indices.stream().map(i -> rollout.responses().get(i)).toList();
    SequenceBatch batch = SequenceBatch.of(prompts, responses, padId);
    Metrics metrics = new Metrics();
    try (NDManager scope = policy.manager().newSubManager()) {
      Autograd.withGrad(
          true,
          () -> {
            NDArray ids = batch.idsArray(scope);
            NDArray mask = batch.maskArray(scope);
            NDArray index = RolloutTensors.responseIndex(batch, scope);
            int width = (int) index.getShape().get(1);
            NDArray responseMask = RolloutTensors.responseMask(batch, width, scope);
            NDArray hidden = policy.hiddenStates(ids, mask);
            Tokens current = tokens(responseLogits(hidden, index), ids, index, true);
            NDArray values = valueHead.values(hidden).gather(index, 1);
            PpoLosses.Policy pg =
                PpoLosses.policyLoss(
                    current.logProbs(),
                    RolloutTensors.padded(rollout.logProbs(), indices, width, scope),
                    RolloutTensors.padded(advantages, indices, width, scope),
                    responseMask,
                    settings.cliprange());
            PpoLosses.Value vf =
                PpoLosses.valueLoss(
                    values,
                    RolloutTensors.padded(rollout.values(), indices, width, scope),
                    RolloutTensors.padded(returns, indices, width, scope),
                    responseMask,
                    settings.cliprangeValue());
            NDArray entropy = PpoLosses.maskedMean(current.entropy(), responseMask);
            NDArray loss =
                pg.loss()
                    .add(vf.loss().mul(scope.full(new Shape(), (float) settings.vfCoef())))
                    .sub(entropy.mul(scope.full(new Shape(), (float) settings.entropyCoef())));
            Autograd.backward(loss);
            metrics
                .mean("policy/approxkl_avg", new float[] {(float) pg.approxKl()})
                .mean("policy/clipfrac_avg", new float[] {(float) pg.clipFraction()})
                .mean("policy/entropy_avg", new float[] {entropy.getFloat()})
                .mean("loss/policy_avg", new float[] {pg.loss().getFloat()})
                .mean("loss/value_avg", new float[] {vf.loss().getFloat()})
                .mean("val/clipfrac_avg", new float[] {(float) vf.clipFraction()});
            return null;
          });
      double penalty = adapterTraining.penalty(policy.manager());
      double gradNorm = GradientClipping.clip(trainable, settings.maxGradNorm(), scope);
      DivergenceGuard.check(
          currentStep,
          metrics.values().getOrDefault("loss/policy_avg", 0.0),
          gradNorm,
          lr,
          checkpointing);
      adapterTraining.update(
          updateNumber, trainable, policy.manager(), () -> optimizer.update(trainable, lr));
      if (adapterTraining.active()) {
        metrics.mean("loss/adapter_penalty", new float[] {(float) penalty});
      }
      // The step's optimizer figures, as the SFT and DPO loops report them.
      metrics
          .mean("learning_rate", new float[] {(float) lr})
          .mean("grad_norm", new float[] {(float) gradNorm});
    }
    return metrics;
  }

  /**
   * Samples one response per held-out prompt (seeded) and reports the mean score, the mean KL to
   * the reference (the k1 estimate summed over each response) and the mean response length.
   */
  public Evaluation evaluate(List<int[]> prompts, long seed) {
    List<Generated> generated = sample(prompts, seed);
    List<int[]> responses = generated.stream().map(Generated::tokens).toList();
    double[] scores = reward.score(prompts, responses);
    Rollout rollout = rollout(prompts, responses, scores, new boolean[prompts.size()]);
    double klSum = 0;
    double length = 0;
    for (int r = 0; r < prompts.size(); r++) {
      for (int t = 0; t < responses.get(r).length; t++) {
        klSum += rollout.logProbs()[r][t] - rollout.referenceLogProbs()[r][t];
      }
      length += responses.get(r).length;
    }
    return new Evaluation(mean(scores), klSum / prompts.size(), length / prompts.size());
  }
}
