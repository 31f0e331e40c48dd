package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Direct Preference Optimization as TRL's DPOTrainer runs it: chosen and rejected responses go
 * through the policy in one batch; their summed log-probabilities, against the reference's, give
 * the loss ({@link PreferenceLosses#dpo}). IPO uses log-probabilities averaged over response
 * tokens, as TRL does.
 *
 * <p>Figures, with TRL's names: {@code rewards/chosen}, {@code rewards/rejected}, {@code
 * rewards/accuracies}, {@code rewards/margins}, {@code logps/chosen}, {@code logps/rejected}.
 */
public final class DpoTrainer {
  /**
   * @param beta strength of the KL leash to the reference (TRL default 0.1)
   * @param labelSmoothing cDPO's assumed label-noise rate in [0, 0.5) (sigmoid loss only)
   * @param rpoAlpha weight of the chosen responses' token-mean NLL added to the loss (TRL's
   *     rpo_alpha, Pang et al. 2024); 0 is plain DPO. It keeps the chosen responses likely, which
   *     off-policy pairs otherwise let fall
   */
  public record Settings(
      double beta, PreferenceLosses.DpoLoss lossType, double labelSmoothing, double rpoAlpha) {
    public Settings(double beta, PreferenceLosses.DpoLoss lossType, double labelSmoothing) {
      this(beta, lossType, labelSmoothing, 0);
    }

    public Settings {
      if (!(rpoAlpha >= 0)) {
        throw new IllegalArgumentException("rpo_alpha must be >= 0 but was " + rpoAlpha);
      }
      if (!(beta > 0)) {
        throw new IllegalArgumentException("beta must be > 0 but was " + beta);
      }
      if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
        throw new IllegalArgumentException(
            "label_smoothing must be in [0, 0.5) but was " + labelSmoothing);
      }
      if (labelSmoothing > 0 && lossType != PreferenceLosses.DpoLoss.SIGMOID) {
        throw new IllegalArgumentException(
            "label_smoothing (cDPO) applies to loss_type sigmoid only, not " + lossType);
      }
    }

    public static final Settings DEFAULT = new Settings(0.1, PreferenceLosses.DpoLoss.SIGMOID, 0.0);
  }

  private final LlamaModel policy;
  private final Settings dpo;
  private final PairwiseTrainer trainer;
  private final int padId;
  private Reference reference;
  private Map<PreferencePair, float[]> precomputed;

  public DpoTrainer(
      LlamaModel policy,
      Map<String, NDArray> trainable,
      SftSettings settings,
      Settings dpo,
      Reference reference) {
    this.policy = policy;
    this.dpo = dpo;
    this.reference = reference;
    this.padId = Math.max(policy.config().padTokenId(), 0);
    this.trainer =
        new PairwiseTrainer(
            policy.manager(),
            trainable,
            settings,
            new PairwiseTrainer.PairLoss() {
              @Override
              public PairwiseTrainer.Step compute(List<PreferencePair> pairs, NDManager scope) {
                return pairLoss(pairs, scope, 0);
              }

              @Override
              public PairwiseTrainer.Step computeAndBackward(
                  List<PreferencePair> pairs, NDManager scope, float scale) {
                return pairLoss(pairs, scope, scale);
              }
            });
  }

  /**
   * Scores every pair under the reference once, now (TRL's precompute_ref_log_probs), then closes
   * the reference: a full fine-tune then trains without a second model in memory. Only these pairs
   * can be trained or evaluated afterwards.
   */
  /** AdamW's betas and epsilon (transformers' defaults until set). */
  public DpoTrainer withOptimizer(dev.tuneforge.llm.recipe.OptimizerSettings optimizer) {
    trainer.withOptimizer(optimizer);
    return this;
  }

  /** The adapter's part in the loop (AdaLoRA's penalty and rank allocation). */
  public DpoTrainer withAdapterTraining(dev.tuneforge.llm.recipe.AdapterTraining adapterTraining) {
    trainer.withAdapterTraining(adapterTraining);
    return this;
  }

  /**
   * Stops the run before the next step once {@code stop} answers true (a cancel); the steps done so
   * far are returned.
   */
  public DpoTrainer withStopSignal(java.util.function.BooleanSupplier stop) {
    trainer.withStopSignal(stop);
    return this;
  }

  public DpoTrainer precomputeReference(List<List<PreferencePair>> splits, int batchSize) {
    Map<PreferencePair, float[]> scores = new IdentityHashMap<>();
    for (List<PreferencePair> split : splits) {
      for (int from = 0; from < split.size(); from += batchSize) {
        List<PreferencePair> batch = split.subList(from, Math.min(split.size(), from + batchSize));
        try (NDManager scope = policy.manager().newSubManager()) {
          float[][] logps = Autograd.withGrad(false, () -> referenceLogps(batch, scope));
          for (int i = 0; i < batch.size(); i++) {
            scores.put(batch.get(i), new float[] {logps[0][i], logps[1][i]});
          }
        }
      }
    }
    this.precomputed = scores;
    try {
      reference.close();
    } catch (Exception e) {
      throw new IllegalStateException("cannot close the reference model", e);
    }
    this.reference = null;
    return this;
  }

  public List<dev.tuneforge.llm.recipe.TrainingStep> train(
      List<PreferencePair> train,
      List<PreferencePair> eval,
      dev.tuneforge.llm.recipe.StepListener listener) {
    return trainer.train(train, eval, listener);
  }

  public List<dev.tuneforge.llm.recipe.TrainingStep> train(
      List<PreferencePair> train,
      List<PreferencePair> eval,
      dev.tuneforge.llm.recipe.StepListener listener,
      SftRecipe.Checkpointing checkpointing,
      Path resumeFrom) {
    return trainer.train(train, eval, listener, checkpointing, resumeFrom);
  }

  /** DPO figures over held-out pairs (implicit-reward accuracy and margin, loss). */
  public Map<String, Double> evaluate(List<PreferencePair> pairs) {
    return trainer.evaluate(pairs);
  }

  private NDArray averaged(SequenceBatch batch, NDArray sums, NDManager scope) {
    return dpo.lossType() == PreferenceLosses.DpoLoss.IPO
        ? sums.div(batch.responseLengths(scope))
        : sums;
  }

  private float[][] referenceLogps(List<PreferencePair> pairs, NDManager scope) {
    int n = pairs.size();
    SequenceBatch batch = SequenceBatch.ofPairs(pairs, padId);
    float[] all =
        averaged(batch, scope.create(reference.responseLogProbs(batch, scope)), scope)
            .toFloatArray();
    return new float[][] {
      java.util.Arrays.copyOfRange(all, 0, n), java.util.Arrays.copyOfRange(all, n, 2 * n)
    };
  }

  /**
   * The DPO loss of a micro-batch. The policy's response log-probabilities come from its hidden
   * states a chunk of positions at a time ({@link SequenceLogProbs}); while training ({@code scale}
   * > 0) the loss is differentiated with respect to those sums, and the sums' gradients are pushed
   * back through the chunks and the model, weighted by {@code scale}.
   */
  private PairwiseTrainer.Step pairLoss(List<PreferencePair> pairs, NDManager scope, float scale) {
    int n = pairs.size();
    SequenceBatch batch = SequenceBatch.ofPairs(pairs, padId);
    boolean training = scale > 0;
    NDArray hidden = policy.hiddenStates(batch.idsArray(scope), batch.maskArray(scope));
    NDArray leaf = training ? dev.tuneforge.llm.engine.Tape.cut(hidden) : hidden;
    float[] values =
        training
            ? Autograd.withGrad(false, () -> SequenceLogProbs.sums(policy, leaf, batch))
            : SequenceLogProbs.sums(policy, leaf, batch);
    NDArray sums = scope.create(values);
    if (training) {
      sums.setRequiresGradient(true);
    }
    NDArray policyLogps = averaged(batch, sums, scope);
    float[][] ref;
    if (precomputed != null) {
      ref = new float[2][n];
      for (int i = 0; i < n; i++) {
        float[] saved = precomputed.get(pairs.get(i));
        if (saved == null) {
          throw new IllegalArgumentException(
              "pair "
                  + i
                  + " of the batch has no precomputed reference log-probabilities; precompute"
                  + " every split you train or evaluate on");
        }
        ref[0][i] = saved[0];
        ref[1][i] = saved[1];
      }
    } else {
      ref = referenceLogps(pairs, scope);
    }
    PreferenceLosses.Dpo result =
        PreferenceLosses.dpo(
            policyLogps.get("0:{}", n),
            policyLogps.get("{}:", n),
            scope.create(ref[0]),
            scope.create(ref[1]),
            dpo.lossType(),
            dpo.beta(),
            dpo.labelSmoothing());
    NDArray loss = result.loss();
    if (dpo.rpoAlpha() > 0) {
      NDArray chosenTokens = batch.responseLengths(scope).get("0:{}", n).sum();
      NDArray nll = sums.get("0:{}", n).sum().neg().div(chosenTokens);
      loss =
          loss.add(nll.mul(scope.full(new ai.djl.ndarray.types.Shape(), (float) dpo.rpoAlpha())));
    }
    if (training) {
      // d loss / d sums, then through the chunks into the policy
      Autograd.backwardSegment(loss, scope.full(new ai.djl.ndarray.types.Shape(), scale));
      float[] gradient = sums.getGradient().toFloatArray();
      SequenceLogProbs.backward(policy, leaf, batch, gradient);
    }
    float[] chosen = result.chosenRewards().toFloatArray();
    float[] rejected = result.rejectedRewards().toFloatArray();
    float[] accurate = new float[n];
    float[] margins = new float[n];
    for (int i = 0; i < n; i++) {
      accurate[i] = chosen[i] > rejected[i] ? 1 : 0;
      margins[i] = chosen[i] - rejected[i];
    }
    float[] policyValues = policyLogps.toFloatArray();
    Metrics metrics =
        new Metrics()
            .mean("rewards/chosen", chosen)
            .mean("rewards/rejected", rejected)
            .mean("rewards/accuracies", accurate)
            .mean("rewards/margins", margins)
            .mean("logps/chosen", java.util.Arrays.copyOfRange(policyValues, 0, n))
            .mean("logps/rejected", java.util.Arrays.copyOfRange(policyValues, n, 2 * n));
    return new PairwiseTrainer.Step(loss, metrics);
  }
}
