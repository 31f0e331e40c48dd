package dev.tuneforge.llm.recipe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.optim.AdamW;
import dev.tuneforge.llm.optim.GradientClipping;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * float16 training with float32 master weights and dynamic loss scaling (Micikevicius et al.,
 * 2018), as transformers' fp16 option does: the loss is multiplied by a scale before backward so
 * small gradients survive in float16; gradients are unscaled into float32, and a step whose
 * gradients overflowed is skipped and the scale halved; after 2000 good steps the scale doubles.
 * The optimizer updates the float32 masters, which are then copied into the float16 weights.
 */
final class MixedPrecision implements AutoCloseable {
  static final double INITIAL_SCALE = 65536;
  static final int GROWTH_INTERVAL = 2000;

  private final Map<String, NDArray> halfParameters;
  private final Map<String, NDArray> masters = new LinkedHashMap<>();
  private final NDManager manager;
  private double scale;
  private int goodSteps;

  MixedPrecision(Map<String, NDArray> halfParameters, NDManager parent, double initialScale) {
    this.halfParameters = halfParameters;
    this.manager = parent.newSubManager();
    this.scale = initialScale;
    halfParameters.forEach(
        (name, half) -> {
          if (half.getDataType() != DataType.FLOAT16) {
            throw new IllegalArgumentException(
                "fp16 training needs a model loaded in float16, but "
                    + name
                    + " is "
                    + half.getDataType());
          }
          NDArray master = half.toType(DataType.FLOAT32, true);
          master.attach(manager);
          masters.put(name, master);
        });
  }

  /** The factor the loss is multiplied by before backward. */
  double lossScale() {
    return scale;
  }

  /** The float32 weights the optimizer updates (and checkpoints hold). */
  Map<String, NDArray> masters() {
    return masters;
  }

  /**
   * Unscales the gradients, then either skips the step (overflow: returns NaN and halves the scale)
   * or clips, updates the masters (the adapter's training acting on them after, for the 1-based
   * {@code step}) and copies them into the float16 weights (returns the gradient norm).
   */
  double step(
      AdamW optimizer,
      double learningRate,
      double maxGradNorm,
      long step,
      AdapterTraining adapterTraining) {
    try (NDManager scope = manager.newSubManager()) {
      Map<String, NDArray> gradients = new LinkedHashMap<>();
      boolean overflow = false;
      for (Map.Entry<String, NDArray> entry : halfParameters.entrySet()) {
        NDArray half = entry.getValue().getGradient();
        half.attach(scope);
        NDArray unscaled =
            Autograd.withGrad(false, () -> half.toType(DataType.FLOAT32, true).divi(scale));
        unscaled.attach(scope);
        overflow |= unscaled.isNaN().any().getBoolean() || unscaled.isInfinite().any().getBoolean();
        gradients.put(entry.getKey(), unscaled);
        Autograd.zeroGradient(entry.getValue());
      }
      if (overflow) {
        scale /= 2;
        goodSteps = 0;
        return Double.NaN;
      }
      double norm = GradientClipping.clipGradients(gradients.values(), maxGradNorm);
      adapterTraining.updateMasters(
          step, masters, gradients, () -> optimizer.update(masters, gradients, learningRate));
      copyMastersToHalf();
      if (++goodSteps % GROWTH_INTERVAL == 0) {
        scale *= 2;
      }
      return norm;
    }
  }

  /** Writes the masters into the float16 weights (after a step or a restore). */
  void copyMastersToHalf() {
    Autograd.withGrad(
        false,
        () -> {
          masters.forEach(
              (name, master) -> {
                try (NDArray half = master.toType(DataType.FLOAT16, true)) {
                  halfParameters.get(name).set(half.toByteBuffer());
                }
              });
          return null;
        });
  }

  @Override
  public void close() {
    manager.close();
  }
}
