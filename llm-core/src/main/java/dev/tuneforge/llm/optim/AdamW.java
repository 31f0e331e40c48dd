package dev.tuneforge.llm.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.engine.Autograd;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter, 2019) exactly as {@code torch.optim.AdamW}: decoupled weight decay
 * {@code p -= lr*wd*p}, then {@code p -= lr * m_hat / (sqrt(v_hat) + eps)} with bias-corrected
 * moments {@code m_hat = m/(1-b1^t)}, {@code v_hat = v/(1-b2^t)}. Typical lr 1e-5..3e-4, betas
 * (0.9, 0.999), eps 1e-8, weight decay 0..0.1. State lives in its own manager and can be saved.
 */
public final class AdamW implements AutoCloseable {
  /** Hyper-parameters. */
  public record Settings(double beta1, double beta2, double epsilon, double weightDecay) {
    public Settings {
      if (!(beta1 >= 0 && beta1 < 1)) {
        throw new IllegalArgumentException("adam_beta1 must be in [0, 1) but was " + beta1);
      }
      if (!(beta2 >= 0 && beta2 < 1)) {
        throw new IllegalArgumentException("adam_beta2 must be in [0, 1) but was " + beta2);
      }
      if (!(epsilon > 0)) {
        throw new IllegalArgumentException("adam_epsilon must be > 0 but was " + epsilon);
      }
      if (!(weightDecay >= 0)) {
        throw new IllegalArgumentException("weight_decay must be >= 0 but was " + weightDecay);
      }
    }
  }

  private final Settings settings;
  private final NDManager manager;
  private final Map<String, NDArray> firstMoments = new LinkedHashMap<>();
  private final Map<String, NDArray> secondMoments = new LinkedHashMap<>();
  private long step;

  public AdamW(Settings settings, NDManager parent) {
    this.settings = settings;
    this.manager = parent.newSubManager();
  }

  /** Updates of done so far. */
  public long step() {
    return step;
  }

  /**
   * Applies one update to every parameter from its accumulated gradient, then zeroes the gradients.
   * Runs with graph recording off.
   */
  public void update(Map<String, NDArray> parameters, double learningRate) {
    update(parameters, null, learningRate);
  }

  /**
   * As {@link #update(Map, double)} with the gradients given by name instead of read from the
   * parameters (for float32 master weights in mixed precision); they are left to the caller.
   */
  public void update(
      Map<String, NDArray> parameters, Map<String, NDArray> gradients, double learningRate) {
    step++;
    double b1 = settings.beta1();
    double b2 = settings.beta2();
    double correction1 = 1 - Math.pow(b1, step);
    double correction2 = 1 - Math.pow(b2, step);
    Autograd.withGrad(
        false,
        () -> {
          for (Map.Entry<String, NDArray> entry : parameters.entrySet()) {
            NDArray p = entry.getValue();
            try (NDManager scope = manager.newSubManager()) {
              NDArray g =
                  gradients != null
                      ? gradients.get(entry.getKey())
                      : scoped(scope, p.getGradient());
              NDArray m = moment(firstMoments, entry.getKey(), p);
              NDArray v = moment(secondMoments, entry.getKey(), p);
              // In-place on the moments; every temporary is attached to the step scope, since a
              // result belongs to its first operand's manager (here the optimizer's).
              m.muli(b1).addi(scoped(scope, g.mul(1 - b1)));
              v.muli(b2).addi(scoped(scope, g.mul(g)).muli(1 - b2));
              if (settings.weightDecay() != 0) {
                p.muli(1 - learningRate * settings.weightDecay());
              }
              NDArray denominator =
                  scoped(scope, v.div(correction2)).sqrt().addi(settings.epsilon());
              p.subi(scoped(scope, m.div(denominator)).muli(learningRate / correction1));
              if (gradients == null) {
                Autograd.zeroGradient(p);
              }
            }
          }
          return null;
        });
  }

  private NDArray moment(Map<String, NDArray> moments, String name, NDArray parameter) {
    return moments.computeIfAbsent(
        name, k -> manager.zeros(parameter.getShape(), parameter.getDataType()));
  }

  private static NDArray scoped(NDManager scope, NDArray temporary) {
    temporary.attach(scope);
    return temporary;
  }

  /**
   * The moment estimates by parameter name, for checkpoints ({@code name.exp_avg}, {@code
   * name.exp_avg_sq}).
   */
  public Map<String, NDArray> state() {
    Map<String, NDArray> state = new LinkedHashMap<>();
    firstMoments.forEach((k, v) -> state.put(k + ".exp_avg", v));
    secondMoments.forEach((k, v) -> state.put(k + ".exp_avg_sq", v));
    return state;
  }

  /** Restores moments saved by {@link #state()} and the step count. */
  public void restore(Map<String, NDArray> state, long steps) {
    state.forEach(
        (key, value) -> {
          NDArray copy = value.duplicate();
          copy.attach(manager);
          if (key.endsWith(".exp_avg")) {
            firstMoments.put(key.substring(0, key.length() - ".exp_avg".length()), copy);
          } else if (key.endsWith(".exp_avg_sq")) {
            secondMoments.put(key.substring(0, key.length() - ".exp_avg_sq".length()), copy);
          } else {
            throw new IllegalArgumentException("optimizer state has an unknown entry " + key);
          }
        });
    this.step = steps;
  }

  @Override
  public void close() {
    manager.close();
  }
}
