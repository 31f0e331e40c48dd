package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.Map;

/**
 * A PEFT adapter over a frozen base model: the projections it wraps while the model is built, its
 * trainable tensors under PEFT's names, switching it off (the DPO/PPO reference is the base),
 * merging where the method is mergeable, and its directory in PEFT's format ({@code
 * adapter_config.json}, {@code adapter_model.safetensors}). LoRA (with DoRA), IA3 and prompt tuning
 * are its implementations; {@link PeftAdapters} reads each by {@code peft_type}.
 */
public interface Adapter {
  /** PEFT's {@code peft_type}: {@code LORA}, {@code IA3}, {@code PROMPT_TUNING}. */
  String peftType();

  /**
   * The projections to build the model with: this adapter's where it acts, {@code base} elsewhere.
   */
  Projections projections(Projections base);

  /** The trainable tensors by PEFT name, filled while the model is built. */
  Map<String, NDArray> parameters();

  /** Dropout and similar training-only behaviour on or off. */
  void setTraining(boolean training);

  /** Off, the model is its base (a reference model); on, the adapter applies. */
  void setEnabled(boolean enabled);

  /** Whether a fresh adapter leaves the model its base (LoRA, IA3; not prompt tuning). */
  default boolean startsAsBase() {
    return true;
  }

  /** Whether {@link #merge} can fold it into the weights (not for virtual tokens). */
  default boolean mergeable() {
    return true;
  }

  /**
   * Folds the adapter into the base weights, for export.
   *
   * @throws IllegalStateException naming why when the method or the base cannot be merged
   */
  void merge();

  /**
   * What a method adds to its own training (AdaLoRA: an orthogonality penalty and the rank
   * allocation after each optimizer step); empty for methods that train by the loss alone.
   */
  default java.util.Optional<TrainingHooks> trainingHooks() {
    return java.util.Optional.empty();
  }

  /** A method's part in the training loop, called by the SFT recipe. */
  interface TrainingHooks {
    /** Before the first step: the run's total optimizer steps. */
    void start(long totalSteps);

    /**
     * Adds the method's penalty to the step's gradients (backward in {@code scope}, weighted by
     * {@code scale}); returns its value, which is part of the reported loss.
     */
    double penalty(ai.djl.ndarray.NDManager scope, float scale);

    /**
     * After the optimizer step {@code step} (1-based): the float32 tensors the optimizer updated by
     * parameter name (the parameters themselves, or their float32 masters under fp16), to read and
     * change in place, and the step's clipped, unscaled gradients as float arrays.
     */
    void afterUpdate(
        long step, Map<String, ai.djl.ndarray.NDArray> updated, Map<String, float[]> gradients);

    /** What a checkpoint must hold for a resumed run to continue as this one would. */
    default Map<String, float[]> state() {
      return Map.of();
    }

    /** Restores {@link #state()} when a run resumes, after {@link #start}. */
    default void restore(Map<String, float[]> state) {}
  }

  /** Writes the adapter directory as PEFT does. */
  void save(Path dir, String baseModelName);
}
