package dev.tuneforge.llm.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.engine.Autograd;
import java.util.Map;

/**
 * Global-norm clipping as {@code torch.nn.utils.clip_grad_norm_}: the norm is taken over every
 * gradient together; when it exceeds {@code maxNorm} all gradients are scaled by {@code maxNorm /
 * (norm + 1e-6)}. DJL's own clip is one-sided per element (djl-spike.md, G8).
 */
public final class GradientClipping {
  private GradientClipping() {}

  /** Clips in place and returns the norm before clipping (NaN or infinite if a gradient is). */
  public static double clip(Map<String, NDArray> parameters, double maxNorm, NDManager scope) {
    java.util.List<NDArray> gradients = new java.util.ArrayList<>();
    for (NDArray p : parameters.values()) {
      NDArray g = p.getGradient();
      g.attach(scope);
      gradients.add(g);
    }
    return clipGradients(gradients, maxNorm);
  }

  /** Clips the given gradients in place; returns their global norm before clipping. */
  public static double clipGradients(java.util.Collection<NDArray> gradients, double maxNorm) {
    return Autograd.withGrad(
        false,
        () -> {
          double sumOfSquares = 0;
          for (NDArray g : gradients) {
            try (NDArray squares = g.mul(g).sum()) {
              sumOfSquares +=
                  squares.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
            }
          }
          double norm = Math.sqrt(sumOfSquares);
          double coefficient = maxNorm / (norm + 1e-6);
          if (maxNorm > 0 && coefficient < 1 && Double.isFinite(norm)) {
            for (NDArray g : gradients) {
              g.muli(coefficient);
            }
          }
          return norm;
        });
  }
}
