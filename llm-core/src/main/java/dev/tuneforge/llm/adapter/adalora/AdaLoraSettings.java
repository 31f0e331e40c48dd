package dev.tuneforge.llm.adapter.adalora;

import java.util.List;
import java.util.Map;

/**
 * PEFT's AdaLoraConfig: SVD-form updates of rank {@code init_r} on {@code target_modules}, pruned
 * to an average of {@code target_r} by importance ({@link RankAllocator}: the budget stays at the
 * initial one for {@code tinit} steps, falls cubically, is fixed for the last {@code tfinal} of
 * {@code total_step}; masks every {@code deltaT} steps; EMA factors {@code beta1} and {@code
 * beta2}), with orthogonality regularization {@code orth_reg_weight}. {@code total_step} 0 takes
 * the run's steps (PEFT requires it set; the trainer knows it). {@code rank_pattern} is the kept
 * ranks by PEFT's lora_E names, once allocated (empty before).
 */
public record AdaLoraSettings(
    int initR,
    int targetR,
    int tinit,
    int tfinal,
    int deltaT,
    double beta1,
    double beta2,
    double orthRegWeight,
    long totalStep,
    double loraAlpha,
    double loraDropout,
    List<String> targetModules,
    Map<String, List<Boolean>> rankPattern)
    implements dev.tuneforge.llm.adapter.AdapterSettings {
  @Override
  public String peftType() {
    return "ADALORA";
  }

  @Override
  public dev.tuneforge.llm.adapter.Adapter create(
      dev.tuneforge.llm.tokenizer.Tokenizer tokenizer, long seed) {
    return AdaLoraAdapter.create(this, seed);
  }

  /** PEFT's target modules for the families TuneForge reads (all Llama-like: q_proj, v_proj). */
  public static final List<String> DEFAULT_TARGETS = List.of("q_proj", "v_proj");

  public AdaLoraSettings {
    targetModules = List.copyOf(targetModules);
    rankPattern = Map.copyOf(rankPattern);
    if (initR < 1) {
      throw new IllegalArgumentException("init_r must be at least 1 but was " + initR);
    }
    if (targetR < 1 || targetR > initR) {
      throw new IllegalArgumentException(
          "target_r must be in [1, init_r " + initR + "] but was " + targetR);
    }
    if (totalStep < 0) {
      throw new IllegalArgumentException(
          "total_step must be > 0, or 0 for the run's steps, but was " + totalStep);
    }
    if (tinit < 0 || tfinal < 0 || (totalStep > 0 && tinit >= totalStep - tfinal)) {
      throw new IllegalArgumentException(
          "tinit "
              + tinit
              + " must be below total_step - tfinal ("
              + totalStep
              + " - "
              + tfinal
              + "): the budget needs steps to fall");
    }
    if (deltaT < 1) {
      throw new IllegalArgumentException("deltaT must be at least 1 but was " + deltaT);
    }
    if (!(beta1 > 0 && beta1 < 1) || !(beta2 > 0 && beta2 < 1)) {
      throw new IllegalArgumentException(
          "beta1 and beta2 must be in (0, 1) but were " + beta1 + ", " + beta2);
    }
    if (!(orthRegWeight >= 0)) {
      throw new IllegalArgumentException("orth_reg_weight must be >= 0 but was " + orthRegWeight);
    }
    if (!(loraDropout >= 0 && loraDropout < 1)) {
      throw new IllegalArgumentException("lora_dropout must be in [0, 1) but was " + loraDropout);
    }
    if (targetModules.isEmpty()) {
      throw new IllegalArgumentException("target_modules is empty");
    }
  }

  /** PEFT's defaults, for {@code totalStep} steps. */
  public static AdaLoraSettings defaults(long totalStep) {
    return new AdaLoraSettings(
        12, 8, 0, 0, 1, 0.85, 0.85, 0.5, totalStep, 8, 0.0, DEFAULT_TARGETS, Map.of());
  }

  /** PEFT's scaling: lora_alpha, or the rank when alpha is 0. */
  double scaling() {
    return loraAlpha > 0 ? loraAlpha : initR;
  }
}
