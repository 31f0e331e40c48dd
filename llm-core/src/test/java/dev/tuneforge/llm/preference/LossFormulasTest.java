package dev.tuneforge.llm.preference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.rl.KlController;
import dev.tuneforge.llm.rl.PpoLosses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every preference and PPO loss on hand-made tensors against the value worked out by hand from its
 * formula (the arithmetic is written next to each expected number).
 */
class LossFormulasTest {
  NDManager m;

  @BeforeEach
  void open() {
    m = Torch.engine().newBaseManager();
  }

  @AfterEach
  void close() {
    m.close();
  }

  NDArray t(float... values) {
    return m.create(values);
  }

  @Test
  void bradleyTerryWithMarginAndCentering() {
    // r_c - r_r - margin = [0.5, -0.5]; -log σ(0.5) = ln(1 + e^-0.5) = 0.474077,
    // -log σ(-0.5) = ln(1 + e^0.5) = 0.974077; mean 0.724077.
    NDArray plain = PreferenceLosses.bradleyTerry(t(2f, 0.5f), t(1f, 1f), t(0.5f, 0f), 0);
    assertEquals(0.724077, plain.getFloat(), 1e-5);
    // centering: (r_c + r_r)² = [9, 2.25], mean 5.625, × 0.1 = 0.5625.
    NDArray centred = PreferenceLosses.bradleyTerry(t(2f, 0.5f), t(1f, 1f), t(0.5f, 0f), 0.1);
    assertEquals(0.724077 + 0.5625, centred.getFloat(), 1e-5);
    // no margin: differences [1, -0.5]: ln(1 + e^-1) = 0.313262, ln(1 + e^0.5) = 0.974077.
    NDArray noMargin = PreferenceLosses.bradleyTerry(t(2f, 0.5f), t(1f, 1f), null, 0);
    assertEquals((0.313262 + 0.974077) / 2, noMargin.getFloat(), 1e-5);
  }

  @Test
  void dpoSigmoidConservativeAndIpo() {
    // log-ratios: chosen -2 - (-3) = 1, rejected -5 - (-4) = -1, h = 2; β = 0.5, βh = 1.
    NDArray pc = t(-2f);
    NDArray pr = t(-5f);
    NDArray rc = t(-3f);
    NDArray rr = t(-4f);
    PreferenceLosses.Dpo sigmoid =
        PreferenceLosses.dpo(pc, pr, rc, rr, PreferenceLosses.DpoLoss.SIGMOID, 0.5, 0);
    assertEquals(0.313262, sigmoid.loss().getFloat(), 1e-5); // ln(1 + e^-1)
    assertEquals(0.5, sigmoid.chosenRewards().getFloat(), 1e-6); // β · 1
    assertEquals(-0.5, sigmoid.rejectedRewards().getFloat(), 1e-6); // β · -1
    // cDPO, ε = 0.1: 0.9 · ln(1 + e^-1) + 0.1 · ln(1 + e^1) = 0.281936 + 0.131326
    PreferenceLosses.Dpo cdpo =
        PreferenceLosses.dpo(pc, pr, rc, rr, PreferenceLosses.DpoLoss.SIGMOID, 0.5, 0.1);
    assertEquals(0.413262, cdpo.loss().getFloat(), 1e-5);
    // IPO: (h - 1/(2β))² = (2 - 1)² = 1
    PreferenceLosses.Dpo ipo =
        PreferenceLosses.dpo(pc, pr, rc, rr, PreferenceLosses.DpoLoss.IPO, 0.5, 0);
    assertEquals(1.0, ipo.loss().getFloat(), 1e-6);
    assertThrows(
        IllegalArgumentException.class,
        () -> new DpoTrainer.Settings(0.1, PreferenceLosses.DpoLoss.IPO, 0.1));
    assertEquals(
        "loss_type \"hinge\" is not supported; supported: [ipo, sigmoid]",
        assertThrows(IllegalArgumentException.class, () -> PreferenceLosses.DpoLoss.parse("hinge"))
            .getMessage());
  }

  @Test
  void logSigmoidIsStableAtLargeMagnitudes() {
    float[] values = PreferenceLosses.logSigmoid(t(-100f, 0f, 100f)).toFloatArray();
    assertEquals(-100, values[0], 1e-4);
    assertEquals(Math.log(0.5), values[1], 1e-6);
    assertEquals(0, values[2], 1e-6);
  }

  @Test
  void ppoClippedSurrogate() {
    // token 0: ratio 1.5, A = 2: -A·ρ = -3, -A·clip(ρ) = -2·1.2 = -2.4 → max -2.4 (clipped)
    // token 1: ratio 0.9, A = -1: 0.9 and 0.9 → 0.9 (not clipped)
    // token 2: masked out
    NDArray old = t(0f, 0f, 0f);
    NDArray current = t((float) Math.log(1.5), (float) Math.log(0.9), 3f);
    PpoLosses.Policy pg = PpoLosses.policyLoss(current, old, t(2f, -1f, 5f), t(1f, 1f, 0f), 0.2);
    assertEquals((-2.4 + 0.9) / 2, pg.loss().getFloat(), 1e-5);
    assertEquals(0.5, pg.clipFraction(), 1e-6);
    // approxkl = 0.5 · mean(ln(1.5)², ln(0.9)²) = 0.25 · (0.1644019 + 0.0111013)
    assertEquals(0.0438758, pg.approxKl(), 1e-6);
  }

  @Test
  void valueLossIsClippedAroundTheOldValues() {
    // t0: V 1.0, V_old 0.5, R 2: (1-2)² = 1; clip(1.0, 0.3, 0.7) = 0.7: (0.7-2)² = 1.69 → 1.69
    // t1: V 0.0, V_old 0.1, R 0.05: 0.0025 both → 0.0025
    PpoLosses.Value vf =
        PpoLosses.valueLoss(t(1f, 0f), t(0.5f, 0.1f), t(2f, 0.05f), t(1f, 1f), 0.2);
    assertEquals(0.5 * (1.69 + 0.0025) / 2, vf.loss().getFloat(), 1e-6);
    assertEquals(0.5, vf.clipFraction(), 1e-6);
  }

  @Test
  void entropyOfAUniformAndAPeakedDistribution() {
    float third = (float) Math.log(1 / 3.0);
    NDArray logProbs =
        m.create(
            new float[] {third, third, third, 0f, -100f, -100f},
            new ai.djl.ndarray.types.Shape(2, 3));
    float[] entropy = PpoLosses.entropy(logProbs).toFloatArray();
    assertEquals(Math.log(3), entropy[0], 1e-6);
    assertEquals(0, entropy[1], 1e-6);
  }

  @Test
  void gaeOnAHandComputedTrajectory() {
    // γ 0.9, λ 0.8, rewards [0, 0, 1], values [0.5, 0.6, 0.7]
    // δ2 = 1 - 0.7 = 0.3;            A2 = 0.3
    // δ1 = 0.9·0.7 - 0.6 = 0.03;     A1 = 0.03 + 0.72·0.3 = 0.246
    // δ0 = 0.9·0.6 - 0.5 = 0.04;     A0 = 0.04 + 0.72·0.246 = 0.21712
    double[] advantages =
        PpoLosses.gae(new double[] {0, 0, 1}, new double[] {0.5, 0.6, 0.7}, 0.9, 0.8);
    assertArrayEquals(new double[] {0.21712, 0.246, 0.3}, advantages, 1e-12);
    // γ = λ = 1: A_t is the return minus the value
    assertArrayEquals(
        new double[] {0.5, 0.4, 0.3},
        PpoLosses.gae(new double[] {0, 0, 1}, new double[] {0.5, 0.6, 0.7}, 1, 1),
        1e-12);
  }

  @Test
  void whiteningUsesTheUnbiasedVarianceOverEveryToken() {
    // values 1, 2, 3: mean 2, unbiased variance 1
    double[][] whitened = PpoLosses.whiten(new double[][] {{1, 2}, {3}}, true);
    assertArrayEquals(new double[] {-1, 0}, whitened[0], 1e-7);
    assertArrayEquals(new double[] {1}, whitened[1], 1e-7);
    double[][] kept = PpoLosses.whiten(new double[][] {{1, 2}, {3}}, false);
    assertArrayEquals(new double[] {1, 2}, kept[0], 1e-7);
  }

  @Test
  void klEstimatorsAndTheAdaptiveController() {
    // log π = -1, log π_ref = -1.5: k1 = 0.5; k3 = e^-0.5 - 1 + 0.5 = 0.106531
    assertEquals(0.5, PpoLosses.KlEstimator.K1.of(-1, -1.5), 1e-12);
    assertEquals(0.106531, PpoLosses.KlEstimator.K3.of(-1, -1.5), 1e-6);
    assertEquals(0.0, PpoLosses.KlEstimator.K3.of(-2, -2), 1e-12);
    // KL 9 vs target 6: error clip(0.5) = 0.2; β ×= 1 + 0.2·256/10000
    KlController adaptive = KlController.adaptive(0.2, 6, 10000);
    adaptive.update(9, 256);
    assertEquals(0.2 * 1.00512, adaptive.value(), 1e-12);
    // KL 3 vs target 6: error -0.5 → -0.2
    adaptive.update(3, 256);
    assertEquals(0.2 * 1.00512 * (1 - 0.00512), adaptive.value(), 1e-12);
    KlController fixed = KlController.fixed(0.05);
    fixed.update(100, 256);
    assertEquals(0.05, fixed.value());
  }
}
