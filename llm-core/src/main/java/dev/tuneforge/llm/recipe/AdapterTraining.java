package dev.tuneforge.llm.recipe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.adapter.Adapter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An adapter's part in a training loop (AdaLoRA: the orthogonality penalty and the rank allocation
 * after each optimizer step), one object every loop (SFT, pairwise, PPO) calls at the same points;
 * a no-op for methods trained by the loss alone.
 *
 * <p>The order in a step: the loss's backward, {@link #penalty}, clipping, {@link #update} (which
 * reads the clipped gradients, runs the optimizer, then lets the adapter act on the updated
 * tensors). Checkpoints hold {@link #state()}; {@link #resume} restores it.
 */
public final class AdapterTraining {
  /** For runs whose adapter (or full model) trains by the loss alone. */
  public static final AdapterTraining NONE = new AdapterTraining(null);

  private final Adapter.TrainingHooks hooks;

  private AdapterTraining(Adapter.TrainingHooks hooks) {
    this.hooks = hooks;
  }

  /** The adapter's hooks, or {@link #NONE} when it has none or there is no adapter. */
  public static AdapterTraining of(Adapter adapter) {
    return adapter == null ? NONE : adapter.trainingHooks().map(AdapterTraining::new).orElse(NONE);
  }

  /** Whether the adapter acts on the loop at all. */
  public boolean active() {
    return hooks != null;
  }

  /** Before the first step. */
  public void start(long totalSteps) {
    if (hooks != null) {
      hooks.start(totalSteps);
    }
  }

  /** After {@link #start}, when the run resumes from {@code checkpoint}. */
  public void resume(Path checkpoint) {
    if (hooks != null) {
      hooks.restore(TrainerCheckpoint.adapterState(checkpoint));
    }
  }

  /** Adds the adapter's penalty to the gradients (in a scope of {@code manager}); its value. */
  public double penalty(NDManager manager) {
    return penalty(manager, 1f);
  }

  /**
   * The penalty with its backward multiplied by {@code lossScale} (fp16's loss scale, so it is
   * unscaled with the loss's gradients); its value, unscaled.
   */
  double penalty(NDManager manager, float lossScale) {
    if (hooks == null) {
      return 0;
    }
    try (NDManager scope = manager.newSubManager()) {
      return hooks.penalty(scope, lossScale);
    }
  }

  /**
   * Runs {@code optimizerUpdate} for the 1-based {@code step}; with hooks, the clipped gradients of
   * {@code trainable} are read first and the adapter acts on the updated tensors after.
   */
  public void update(
      long step, Map<String, NDArray> trainable, NDManager manager, Runnable optimizerUpdate) {
    if (hooks == null) {
      optimizerUpdate.run();
      return;
    }
    Map<String, float[]> gradients = new LinkedHashMap<>();
    try (NDManager scope = manager.newSubManager()) {
      for (Map.Entry<String, NDArray> p : trainable.entrySet()) {
        NDArray gradient = p.getValue().getGradient(); // a handle, freed with the scope
        gradient.attach(scope);
        gradients.put(p.getKey(), gradient.toFloatArray());
      }
    }
    optimizerUpdate.run();
    hooks.afterUpdate(step, trainable, gradients);
  }

  /**
   * Under fp16: runs {@code optimizerUpdate} on the float32 {@code masters} with the unscaled,
   * clipped float32 {@code gradients}; the adapter then acts on the masters, which the caller
   * copies into the float16 weights.
   */
  void updateMasters(
      long step,
      Map<String, NDArray> masters,
      Map<String, NDArray> gradients,
      Runnable optimizerUpdate) {
    if (hooks == null) {
      optimizerUpdate.run();
      return;
    }
    Map<String, float[]> read = new LinkedHashMap<>();
    gradients.forEach((name, gradient) -> read.put(name, gradient.toFloatArray()));
    optimizerUpdate.run();
    hooks.afterUpdate(step, masters, read);
  }

  /** What a checkpoint must hold for a resumed run to continue as this one would. */
  public Map<String, float[]> state() {
    return hooks == null ? Map.of() : hooks.state();
  }
}
