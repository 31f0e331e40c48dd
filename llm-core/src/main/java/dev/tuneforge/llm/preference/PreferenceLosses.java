package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Pairwise preference losses, as TRL computes them. Every scalar enters as a libtorch-owned tensor
 * (never a Java Number), so autograd keeps nothing that Java frees (djl-spike.md, G1).
 */
public final class PreferenceLosses {
  private PreferenceLosses() {}

  /** DPO loss variants (TRL's {@code loss_type}). */
  public enum DpoLoss {
    /**
     * {@code -log σ(β h)}, or cDPO with label smoothing ε: {@code -(1-ε) log σ(β h) - ε log σ(-β
     * h)}.
     */
    SIGMOID,
    /** IPO (Azar et al., 2023): {@code (h - 1/(2β))²} on length-averaged log-probabilities. */
    IPO;

    public static DpoLoss parse(String name) {
      return switch (name) {
        case "sigmoid" -> SIGMOID;
        case "ipo" -> IPO;
        default ->
            throw new IllegalArgumentException(
                "loss_type \"" + name + "\" is not supported; supported: [ipo, sigmoid]");
      };
    }
  }

  /**
   * Bradley–Terry reward-model loss: {@code mean(-log σ(r_c - r_r - margin)) + c · mean((r_c +
   * r_r)²)}; the second term (center_rewards_coefficient c) keeps rewards centred on zero.
   *
   * @param margin (pairs,) or null
   */
  public static NDArray bradleyTerry(
      NDArray chosen, NDArray rejected, NDArray margin, double centerRewardsCoefficient) {
    NDManager scope = chosen.getManager();
    NDArray difference = chosen.sub(rejected);
    if (margin != null) {
      difference = difference.sub(margin);
    }
    NDArray loss = logSigmoid(difference).mean().neg();
    if (centerRewardsCoefficient != 0) {
      NDArray sum = chosen.add(rejected);
      loss = loss.add(sum.mul(sum).mean().mul(scalar(scope, centerRewardsCoefficient)));
    }
    return loss;
  }

  /** The DPO loss and the implicit rewards {@code β (log π - log π_ref)} of each response. */
  public record Dpo(NDArray loss, NDArray chosenRewards, NDArray rejectedRewards) {}

  /**
   * DPO (Rafailov et al., 2023) on summed response log-probabilities (pairs,) of the policy and the
   * reference; IPO expects them averaged over response tokens (the caller divides).
   */
  public static Dpo dpo(
      NDArray policyChosen,
      NDArray policyRejected,
      NDArray referenceChosen,
      NDArray referenceRejected,
      DpoLoss type,
      double beta,
      double labelSmoothing) {
    NDManager scope = policyChosen.getManager();
    NDArray chosenRatio = policyChosen.sub(referenceChosen);
    NDArray rejectedRatio = policyRejected.sub(referenceRejected);
    NDArray h = chosenRatio.sub(rejectedRatio);
    NDArray betaTensor = scalar(scope, beta);
    NDArray losses =
        switch (type) {
          case SIGMOID -> {
            NDArray scaled = h.mul(betaTensor);
            NDArray loss = logSigmoid(scaled).mul(scalar(scope, 1 - labelSmoothing)).neg();
            yield labelSmoothing == 0
                ? loss
                : loss.sub(logSigmoid(scaled.neg()).mul(scalar(scope, labelSmoothing)));
          }
          case IPO -> {
            NDArray off = h.sub(1 / (2 * beta));
            yield off.mul(off);
          }
        };
    NDArray chosenRewards = chosenRatio.mul(betaTensor).stopGradient();
    NDArray rejectedRewards = rejectedRatio.mul(betaTensor).stopGradient();
    return new Dpo(losses.mean(), chosenRewards, rejectedRewards);
  }

  /** A numerically stable {@code log σ(x) = min(x, 0) - log(1 + exp(-|x|))}. */
  public static NDArray logSigmoid(NDArray x) {
    NDArray zero = x.zerosLike();
    return x.minimum(zero).sub(x.abs().neg().exp().add(1).log());
  }

  static NDArray scalar(NDManager scope, double value) {
    return scope.full(new Shape(), (float) value);
  }
}
