package dev.tuneforge.llm.adapter.ia3;

import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.LoraTargets;
import java.util.List;
import java.util.Map;

/**
 * IA3's settings as PEFT's {@code IA3Config} has them: the modules it scales and which of them are
 * feed-forward (scaled on their input, others on their output). Each is a list of names (a module
 * matches a name it equals or ends with, {@code .down_proj}) or one regular expression matched
 * against the whole module name ({@code model.layers.0.mlp.down_proj}). The defaults per model type
 * are PEFT's ({@code TRANSFORMERS_MODELS_TO_IA3_*_MAPPING}).
 */
public record Ia3Settings(
    List<String> targetModules,
    String targetRegex,
    List<String> feedforwardModules,
    String feedforwardRegex)
    implements dev.tuneforge.llm.adapter.AdapterSettings {
  @Override
  public String peftType() {
    return "IA3";
  }

  @Override
  public dev.tuneforge.llm.adapter.Adapter create(
      dev.tuneforge.llm.tokenizer.Tokenizer tokenizer, long seed) {
    return Ia3Adapter.create(this);
  }

  /** PEFT's default targets for Llama-family models: keys, values and the MLP's down projection. */
  public static final Map<String, List<String>> DEFAULT_TARGETS =
      Map.of(
          "llama", List.of("k_proj", "v_proj", "down_proj"),
          "mistral", List.of("k_proj", "v_proj", "down_proj"),
          "qwen2", List.of("q_proj", "v_proj", "down_proj"),
          "qwen3", List.of("q_proj", "v_proj", "down_proj"),
          "gemma", List.of("q_proj", "v_proj", "down_proj"),
          "gemma2", List.of("q_proj", "v_proj", "down_proj"),
          "gemma3_text", List.of("q_proj", "v_proj", "down_proj"));

  public Ia3Settings {
    targetModules = targetModules == null ? List.of() : List.copyOf(targetModules);
    feedforwardModules = feedforwardModules == null ? List.of() : List.copyOf(feedforwardModules);
    if (targetModules.isEmpty() && targetRegex == null) {
      throw new IllegalArgumentException("ia3 needs target_modules");
    }
    if (targetRegex == null
        && feedforwardRegex == null
        && !targetModules.containsAll(feedforwardModules)) {
      throw new IllegalArgumentException(
          "feedforward_modules "
              + feedforwardModules
              + " must be a subset of target_modules "
              + targetModules
              + " (as PEFT requires)");
    }
    // Validates the expressions now, naming them.
    new LoraTargets(targetRegex, null, null, null, List.of(), Map.of(), Map.of());
    new LoraTargets(feedforwardRegex, null, null, null, List.of(), Map.of(), Map.of());
  }

  /** PEFT's defaults for a model type, or an error naming the type. */
  /**
   * The given target and feed-forward modules (null: unset), else PEFT's defaults for the {@code
   * model_type} in {@code modelDir}'s config.json; listed targets without feed-forward modules
   * treat down_proj as the feed-forward one, as PEFT's defaults do.
   */
  public static Ia3Settings forModel(
      java.nio.file.Path modelDir, List<String> targetModules, List<String> feedforwardModules) {
    if (targetModules == null) {
      Ia3Settings defaults = defaults(modelType(modelDir));
      return feedforwardModules == null
          ? defaults
          : new Ia3Settings(defaults.targetModules(), null, feedforwardModules, null);
    }
    return new Ia3Settings(
        targetModules,
        null,
        feedforwardModules == null
            ? targetModules.stream().filter(m -> m.equals("down_proj")).toList()
            : feedforwardModules,
        null);
  }

  private static String modelType(java.nio.file.Path modelDir) {
    java.nio.file.Path config = modelDir.resolve("config.json");
    try {
      com.google.gson.JsonElement type =
          com.google.gson.JsonParser.parseString(java.nio.file.Files.readString(config))
              .getAsJsonObject()
              .get("model_type");
      return type == null ? "" : type.getAsString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + config, e);
    }
  }

  public static Ia3Settings defaults(String modelType) {
    List<String> targets = DEFAULT_TARGETS.get(modelType);
    if (targets == null) {
      throw new IllegalArgumentException(
          "ia3 has no default target_modules for model_type \""
              + modelType
              + "\"; set target_modules and feedforward_modules");
    }
    return new Ia3Settings(targets, null, List.of("down_proj"), null);
  }

  /** Whether {@code module} of decoder layer {@code layer} is scaled. */
  public boolean targets(int layer, String module) {
    return matches(targetRegex, targetModules, layer, module);
  }

  /** Whether that module is feed-forward: its input is scaled, not its output. */
  public boolean feedforward(int layer, String module) {
    return matches(feedforwardRegex, feedforwardModules, layer, module);
  }

  private static boolean matches(String regex, List<String> names, int layer, String module) {
    return new LoraTargets(regex, null, null, null, List.of(), Map.of(), Map.of())
        .adapts(LoraSettings.key(layer, module), names);
  }
}
