package dev.tuneforge.llm.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.adapter.AdapterSettings;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.LoraTargets;
import dev.tuneforge.llm.adapter.adalora.AdaLoraSettings;
import dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings;
import dev.tuneforge.llm.adapter.prompt.PromptTuningSettings;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The adapter blocks of a spec file ({@code lora}, {@code ia3}, {@code prompt_learning}, {@code
 * adalora}) with PEFT's names and defaults, and the settings each method makes of them; {@link
 * TrainSpec} reads the rest of the file.
 */
final class AdapterBlocks {
  private AdapterBlocks() {}

  /**
   * PEFT AdaLoraConfig names, for method adalora; its lora_alpha, lora_dropout and target_modules
   * come from the lora block (AdaLoraConfig extends LoraConfig), total_step 0 takes the run's.
   */
  static final class AdaLora {
    int initR = 12;
    int targetR = 8;
    int tinit = 0;
    int tfinal = 0;

    @com.google.gson.annotations.SerializedName("deltaT")
    int deltaT = 1;

    double beta1 = 0.85;
    double beta2 = 0.85;
    double orthRegWeight = 0.5;
    long totalStep = 0;
  }

  /** PEFT PromptTuningConfig and PrefixTuningConfig names, for methods prompt and prefix. */
  static final class PromptLearning {
    int numVirtualTokens = PromptTuningSettings.DEFAULT_VIRTUAL_TOKENS;
    String promptTuningInit = null;
    String promptTuningInitText = null;
    Boolean prefixProjection = null;
    Integer encoderHiddenSize = null;
  }

  /** PEFT IA3Config names; unset, PEFT's defaults for the model's model_type. */
  static final class Ia3 {
    List<String> targetModules = null;
    List<String> feedforwardModules = null;
  }

  /** PEFT LoraConfig names. */
  static final class Lora {
    int r = 16;
    double loraAlpha = 32;
    double loraDropout = 0.05;
    List<String> targetModules = LoraSettings.ALL_LINEAR;
    boolean useRslora = false;

    /** none, lora_only or all. */
    String bias = "none";

    boolean useDora = false;
    List<String> modulesToSave = List.of();

    /** PEFT's finer selection: layers_to_transform (an int or a list), layers_pattern. */
    List<Integer> layersToTransform = null;

    String layersPattern = null;
    List<String> excludeModules = List.of();
    Map<String, Integer> rankPattern = Map.of();
    Map<String, Double> alphaPattern = Map.of();

    /** PEFT's lora_bias: B trains a bias too. */
    boolean loraBias = false;

    /** PEFT's init_lora_weights: true (Kaiming-uniform A) or "gaussian"; B starts at zero. */
    String initLoraWeights = "true";

    /** target_modules given as one string other than "all-linear": a regular expression. */
    transient String targetRegex;

    /** The block as the spec file gave it, for AdaLoRA's defaults; null when absent. */
    transient JsonObject given;
  }

  /**
   * PEFT takes {@code target_modules} as a list of names or as one string: "all-linear", or else a
   * regular expression matched against full module names (model.layers.3.self_attn.q_proj). The
   * first becomes the list; a regular expression is returned (and the key removed) so it applies as
   * PEFT applies it. {@code layers_to_transform} may be one int, as in PEFT.
   */
  static String targetModulesAsList(JsonObject lora) {
    JsonElement layers = lora.get("layers_to_transform");
    if (layers != null && layers.isJsonPrimitive()) {
      JsonArray list = new JsonArray();
      list.add(layers);
      lora.add("layers_to_transform", list);
    }
    JsonElement modules = lora.get("target_modules");
    if (modules == null || !modules.isJsonPrimitive()) {
      return null;
    }
    String value = modules.getAsString();
    if (!value.equals("all-linear")) {
      lora.remove("target_modules");
      return value;
    }
    JsonArray list = new JsonArray();
    list.add(value);
    lora.add("target_modules", list);
    return null;
  }

  /** {@code settings}, its refusals named by the block they come from. */
  static AdapterSettings named(String block, Supplier<AdapterSettings> settings) {
    try {
      return settings.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(block + ": " + e.getMessage(), e);
    }
  }

  static LoraSettings lora(Lora lora) {
    return new LoraSettings(
        lora.r,
        lora.loraAlpha,
        lora.loraDropout,
        lora.targetModules,
        lora.useRslora,
        lora.bias,
        lora.useDora,
        lora.modulesToSave,
        new LoraTargets(
            lora.targetRegex,
            lora.layersToTransform,
            lora.layersPattern == null ? null : List.of(lora.layersPattern),
            null,
            lora.excludeModules,
            lora.rankPattern,
            lora.alphaPattern),
        lora.loraBias,
        lora.initLoraWeights);
  }

  /** Prompt tuning's settings, PEFT's names; the model's directory is its tokenizer. */
  static PromptTuningSettings promptTuning(PromptLearning block, String model) {
    if (block.prefixProjection != null || block.encoderHiddenSize != null) {
      throw new IllegalArgumentException(
          "prefix_projection and encoder_hidden_size are prefix tuning's; method prompt does not"
              + " take them");
    }
    return new PromptTuningSettings(
        block.numVirtualTokens,
        block.promptTuningInit == null ? "RANDOM" : block.promptTuningInit,
        block.promptTuningInitText,
        model);
  }

  /** Prefix tuning's settings, PEFT's names. */
  static PrefixTuningSettings prefixTuning(PromptLearning block) {
    if (block.promptTuningInit != null || block.promptTuningInitText != null) {
      throw new IllegalArgumentException(
          "prompt_tuning_init and prompt_tuning_init_text are prompt tuning's; method prefix does"
              + " not take them");
    }
    return new PrefixTuningSettings(
        block.numVirtualTokens,
        Boolean.TRUE.equals(block.prefixProjection),
        block.encoderHiddenSize == null ? 0 : block.encoderHiddenSize);
  }

  /**
   * AdaLoRA's settings: the adalora block, with lora_alpha, lora_dropout and target_modules from
   * the lora block (PEFT's AdaLoraConfig is a LoraConfig: alpha 8, dropout 0 and q_proj, v_proj by
   * default); LoRA options AdaLoRA does not use are refused by name.
   */
  static AdaLoraSettings adaLora(AdaLora adalora, Lora lora) {
    JsonObject given = lora.given;
    Set<String> allowed = Set.of("lora_alpha", "lora_dropout", "target_modules");
    if (given != null) {
      for (String key : given.keySet()) {
        if (!allowed.contains(key)) {
          throw new IllegalArgumentException(
              "lora."
                  + key
                  + " is not used by AdaLoRA (init_r sets the rank); it takes lora_alpha,"
                  + " lora_dropout and target_modules");
        }
      }
    }
    if (lora.targetRegex != null) {
      throw new IllegalArgumentException("AdaLoRA takes target_modules as a list of names");
    }
    boolean has = given != null;
    return new AdaLoraSettings(
        adalora.initR,
        adalora.targetR,
        adalora.tinit,
        adalora.tfinal,
        adalora.deltaT,
        adalora.beta1,
        adalora.beta2,
        adalora.orthRegWeight,
        adalora.totalStep,
        has && given.has("lora_alpha") ? lora.loraAlpha : 8,
        has && given.has("lora_dropout") ? lora.loraDropout : 0.0,
        !has || !given.has("target_modules")
            ? AdaLoraSettings.DEFAULT_TARGETS
            : lora.targetModules.contains("all-linear")
                ? LoraSettings.ALL_LINEAR
                : lora.targetModules,
        Map.of());
  }
}
