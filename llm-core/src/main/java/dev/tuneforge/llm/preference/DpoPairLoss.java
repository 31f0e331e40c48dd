package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.model.LlamaModel;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DPO loss of a micro-batch of pairs against the reference ({@link PreferenceLosses#dpo}), with
 * TRL's figures: what {@link DpoTrainer} takes over fixed pairs and {@link OnlineDpoTrainer} over
 * the pairs it samples and has judged.
 */
final class DpoPairLoss {
  /**
   * A micro-batch's step, and the policy's and the reference's log-probabilities of its responses
   * as the loss used them (chosen ones first, then rejected; averaged per token for IPO).
   */
  record Result(PairwiseTrainer.Step step, float[] policy, float[] reference) {}

  private final LlamaModel policy;
  private final DpoTrainer.Settings dpo;
  private final int padId;
  private Reference reference;
  private Map<PreferencePair, float[]> precomputed;

  DpoPairLoss(LlamaModel policy, DpoTrainer.Settings dpo, Reference reference) {
    this.policy = policy;
    this.dpo = dpo;
    this.reference = reference;
    this.padId = Math.max(policy.config().padTokenId(), 0);
  }

  /** Scores every pair of {@code splits} under the reference now, then closes the reference. */
  void precompute(List<List<PreferencePair>> splits, int batchSize) {
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
  Result compute(List<PreferencePair> pairs, NDManager scope, float scale) {
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
    float[] refValues = new float[2 * n];
    System.arraycopy(ref[0], 0, refValues, 0, n);
    System.arraycopy(ref[1], 0, refValues, n, n);
    return new Result(
        new PairwiseTrainer.Step(loss, metrics, PreferencePair.tokens(pairs)),
        policyValues,
        refValues);
  }
}
