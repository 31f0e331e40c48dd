package dev.tuneforge.llm.adapter;

import java.util.List;
import java.util.Set;

/**
 * LoRA hyper-parameters with PEFT's names and TuneForge's defaults.
 *
 * @param r rank of the update, typ. 4-64 (default 16)
 * @param alpha scale numerator: the update is multiplied by alpha/r (or alpha/sqrt(r) with rsLoRA),
 *     typ. r to 2r (default 32)
 * @param dropout dropout on the adapter's input during training, typ. 0-0.1 (default 0.05)
 * @param targetModules projection names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,
 *     down_proj) or "all-linear"
 * @param useRslora scale by alpha/sqrt(r) (Kalajdzievski, 2023)
 * @param bias which bias terms train with the adapter: none, lora_only (of adapted projections) or
 *     all (every projection bias); they are saved in the adapter as PEFT does
 * @param useDora DoRA: a trained magnitude per output row over the normalized LoRA-updated weight
 * @param modulesToSave top-level modules trained in full and saved with the adapter: embed_tokens,
 *     lm_head
 * @param rules PEFT's finer selection: a regular-expression target_modules, layers_to_transform,
 *     exclude_modules, rank_pattern and alpha_pattern ({@link LoraTargets#ALL} for none)
 * @param loraBias PEFT's {@code lora_bias}: B has a trained bias (zeros at first), so the update is
 *     {@code scale * (B A x + b)}; not with DoRA
 * @param initLoraWeights PEFT's {@code init_lora_weights}: "true" (A Kaiming-uniform) or "gaussian"
 *     (A ~ N(0, 1/r)); B starts at zero either way, so the adapter starts as the base
 */
public record LoraSettings(
    int r,
    double alpha,
    double dropout,
    List<String> targetModules,
    boolean useRslora,
    String bias,
    boolean useDora,
    List<String> modulesToSave,
    LoraTargets rules,
    boolean loraBias,
    String initLoraWeights)
    implements dev.tuneforge.llm.adapter.AdapterSettings {
  @Override
  public String peftType() {
    return "LORA";
  }

  @Override
  public Adapter create(dev.tuneforge.llm.tokenizer.Tokenizer tokenizer, long seed) {
    return LoraAdapter.create(this, seed);
  }

  public static final List<String> ALL_LINEAR =
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  /**
   * Phi-3's fused projections. all-linear (or a list of all seven projections) adapts them too, as
   * PEFT's all-linear adapts every linear layer but the head.
   */
  public static final List<String> FUSED_LINEAR = List.of("qkv_proj", "gate_up_proj");

  public LoraSettings {
    if (r <= 0) {
      throw new IllegalArgumentException("lora.r must be > 0 but was " + r);
    }
    if (!(alpha > 0)) {
      throw new IllegalArgumentException("lora_alpha must be > 0 but was " + alpha);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("lora_dropout must be in [0, 1) but was " + dropout);
    }
    if (!Set.of("none", "lora_only", "all").contains(bias)) {
      throw new IllegalArgumentException(
          "bias \"" + bias + "\" is not one of none, lora_only, all");
    }
    modulesToSave = List.copyOf(modulesToSave);
    rules = rules == null ? LoraTargets.ALL : rules;
    initLoraWeights = initLoraWeights == null ? "true" : initLoraWeights;
    if (!initLoraWeights.equals("true") && !initLoraWeights.equals("gaussian")) {
      throw new IllegalArgumentException(
          "init_lora_weights \""
              + initLoraWeights
              + "\" is not supported; \"true\" (Kaiming-uniform A) or \"gaussian\" (A ~ N(0,"
              + " 1/r)), both with B = 0");
    }
    if (loraBias && useDora) {
      throw new IllegalArgumentException(
          "lora_bias=true is not supported with DoRA (use_dora), as in PEFT");
    }
    for (String module : modulesToSave) {
      if (!module.equals("embed_tokens") && !module.equals("lm_head")) {
        throw new IllegalArgumentException(
            "modules_to_save entry \"" + module + "\" is not supported; embed_tokens or lm_head");
      }
    }
    targetModules =
        targetModules.isEmpty() || targetModules.equals(List.of("all-linear"))
            ? ALL_LINEAR
            : List.copyOf(targetModules);
    for (String module : targetModules) {
      // PEFT matches an entry as the module's name or a suffix of its path, so a full name
      // (model.layers.1.mlp.up_proj, as peft saves all-linear on a small model) adapts one module
      String leaf = module.substring(module.lastIndexOf('.') + 1);
      if (!ALL_LINEAR.contains(leaf) && !FUSED_LINEAR.contains(leaf)) {
        throw new IllegalArgumentException(
            "target_modules entry \""
                + module
                + "\" is not a projection of this model; one of "
                + ALL_LINEAR
                + ", "
                + FUSED_LINEAR
                + " (or a path ending in one) or all-linear");
      }
    }
  }

  /** Settings with PEFT's default initialisation (Kaiming-uniform A, zero B). */
  public LoraSettings(
      int r,
      double alpha,
      double dropout,
      List<String> targetModules,
      boolean useRslora,
      String bias,
      boolean useDora,
      List<String> modulesToSave,
      LoraTargets rules,
      boolean loraBias) {
    this(
        r,
        alpha,
        dropout,
        targetModules,
        useRslora,
        bias,
        useDora,
        modulesToSave,
        rules,
        loraBias,
        "true");
  }

  /** Settings with no trained bias (PEFT's default). */
  public LoraSettings(
      int r, double alpha, double dropout, List<String> targetModules, boolean useRslora) {
    this(
        r,
        alpha,
        dropout,
        targetModules,
        useRslora,
        "none",
        false,
        List.of(),
        LoraTargets.ALL,
        false);
  }

  /** Settings with a bias choice and no DoRA. */
  public LoraSettings(
      int r,
      double alpha,
      double dropout,
      List<String> targetModules,
      boolean useRslora,
      String bias) {
    this(
        r,
        alpha,
        dropout,
        targetModules,
        useRslora,
        bias,
        false,
        List.of(),
        LoraTargets.ALL,
        false);
  }

  /** Settings without modules_to_save. */
  public LoraSettings(
      int r,
      double alpha,
      double dropout,
      List<String> targetModules,
      boolean useRslora,
      String bias,
      boolean useDora) {
    this(
        r,
        alpha,
        dropout,
        targetModules,
        useRslora,
        bias,
        useDora,
        List.of(),
        LoraTargets.ALL,
        false);
  }

  /** Settings without PEFT's finer selection rules. */
  public LoraSettings(
      int r,
      double alpha,
      double dropout,
      List<String> targetModules,
      boolean useRslora,
      String bias,
      boolean useDora,
      List<String> modulesToSave) {
    this(
        r,
        alpha,
        dropout,
        targetModules,
        useRslora,
        bias,
        useDora,
        modulesToSave,
        LoraTargets.ALL,
        false);
  }

  /** r=16, alpha=32, dropout 0.05 on every linear projection. */
  public static LoraSettings defaults() {
    return new LoraSettings(16, 32, 0.05, ALL_LINEAR, false);
  }

  /** The factor the update B·A is multiplied by. */
  public double scale() {
    return useRslora ? alpha / Math.sqrt(r) : alpha / r;
  }

  /** Whether {@code module} (e.g. "self_attn.q_proj") of every layer is adapted by name. */
  public boolean targets(String module) {
    String leaf = module.substring(module.lastIndexOf('.') + 1);
    return targetModules.stream().anyMatch(t -> t.equals(leaf) || t.endsWith("." + leaf))
        || (targetModules.containsAll(ALL_LINEAR) && FUSED_LINEAR.contains(leaf));
  }

  /** PEFT's full module name, e.g. {@code model.layers.3.self_attn.q_proj}. */
  public static String key(int layer, String module) {
    return dev.tuneforge.llm.model.WeightNames.layer(layer) + module;
  }

  /** Whether {@code module} of decoder layer {@code layer} is adapted, by PEFT's rules. */
  public boolean targets(int layer, String module) {
    List<String> names = targetModules;
    if (targetModules.containsAll(ALL_LINEAR)) {
      names = new java.util.ArrayList<>(targetModules);
      names.addAll(FUSED_LINEAR);
    }
    return rules.adapts(key(layer, module), names);
  }

  /** The rank of that module's update (rank_pattern, else r). */
  public int rank(int layer, String module) {
    return rules.rank(key(layer, module), r);
  }

  /**
   * The factor that module's B·A is multiplied by: its alpha over its rank (or its square root).
   */
  public double scale(int layer, String module) {
    int rank = rank(layer, module);
    double moduleAlpha = rules.alpha(key(layer, module), alpha);
    return useRslora ? moduleAlpha / Math.sqrt(rank) : moduleAlpha / rank;
  }
}
