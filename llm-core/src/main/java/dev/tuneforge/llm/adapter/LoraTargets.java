package dev.tuneforge.llm.adapter;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which modules a LoRA adapter adapts and with which rank and alpha, by PEFT's rules ( {@code
 * check_target_module_exists} and {@code get_pattern_key}), on full module names such as {@code
 * model.layers.3.self_attn.q_proj}:
 *
 * <ul>
 *   <li>{@code target_modules} as a string is a regular expression the whole name must match; as a
 *       list, a name matches an entry it equals or ends with ({@code .q_proj});
 *   <li>{@code layers_to_transform} (list form only) keeps the layers whose index (the first number
 *       after {@code layers_pattern}, or after any segment) is listed;
 *   <li>{@code exclude_modules} (a regular expression or names) removes modules;
 *   <li>{@code rank_pattern} / {@code alpha_pattern}: the first key {@code k} with {@code
 *       (.*\.)?(k)} matching the name overrides r / lora_alpha.
 * </ul>
 *
 * @param targetRegex {@code target_modules} given as a string, or null
 * @param layersToTransform layer indices, or null for every layer
 * @param layersPattern names of the layer list ({@code layers}), or null for any
 * @param excludeRegex {@code exclude_modules} as a string, or null
 * @param excludeModules {@code exclude_modules} as names
 */
public record LoraTargets(
    String targetRegex,
    List<Integer> layersToTransform,
    List<String> layersPattern,
    String excludeRegex,
    List<String> excludeModules,
    Map<String, Integer> rankPattern,
    Map<String, Double> alphaPattern) {
  /** Every layer, no exclusions, no per-module ranks. */
  public static final LoraTargets ALL =
      new LoraTargets(null, null, null, null, List.of(), Map.of(), Map.of());

  public LoraTargets {
    if (targetRegex != null && (layersToTransform != null || layersPattern != null)) {
      throw new IllegalArgumentException(
          "layers_to_transform and layers_pattern cannot be used when target_modules is a"
              + " string (PEFT's rule)");
    }
    if (layersPattern != null && layersToTransform == null) {
      throw new IllegalArgumentException(
          "when layers_pattern is given, layers_to_transform must be given too (PEFT's rule)");
    }
    layersToTransform = layersToTransform == null ? null : List.copyOf(layersToTransform);
    layersPattern = layersPattern == null ? null : List.copyOf(layersPattern);
    excludeModules = List.copyOf(excludeModules);
    rankPattern = new LinkedHashMap<>(rankPattern);
    alphaPattern = new LinkedHashMap<>(alphaPattern);
    for (Map.Entry<String, Integer> e : rankPattern.entrySet()) {
      if (e.getValue() <= 0) {
        throw new IllegalArgumentException(
            "rank_pattern \"" + e.getKey() + "\" must be > 0 but was " + e.getValue());
      }
    }
    compile(targetRegex, "target_modules");
    compile(excludeRegex, "exclude_modules");
    rankPattern.keySet().forEach(k -> compile(k, "rank_pattern key"));
    alphaPattern.keySet().forEach(k -> compile(k, "alpha_pattern key"));
  }

  private static Pattern compile(String regex, String what) {
    if (regex == null) {
      return null;
    }
    try {
      return Pattern.compile(regex);
    } catch (java.util.regex.PatternSyntaxException e) {
      throw new IllegalArgumentException(
          what + " \"" + regex + "\" is not a regular expression: " + e.getDescription(), e);
    }
  }

  /** Whether the module {@code key} is adapted, given the list form {@code targetModules}. */
  public boolean adapts(String key, List<String> targetModules) {
    if (excludeRegex != null
        ? Pattern.compile(excludeRegex).matcher(key).matches()
        : excludeModules.stream().anyMatch(x -> key.equals(x) || key.endsWith("." + x))) {
      return false;
    }
    if (targetRegex != null) {
      return Pattern.compile(targetRegex).matcher(key).matches();
    }
    boolean found = targetModules.stream().anyMatch(t -> key.equals(t) || key.endsWith("." + t));
    if (!found || layersToTransform == null || layersToTransform.isEmpty()) {
      return found;
    }
    Integer index = layerIndex(key);
    return index != null && layersToTransform.contains(index);
  }

  private Integer layerIndex(String key) {
    List<String> patterns = layersPattern == null || layersPattern.isEmpty() ? null : layersPattern;
    if (patterns == null) {
      Matcher m = Pattern.compile(".*?\\.[^.]*\\.(\\d+)\\..*").matcher(key);
      return m.matches() ? Integer.valueOf(m.group(1)) : null;
    }
    for (String pattern : patterns) {
      Matcher m = Pattern.compile(".*?\\." + pattern + "\\.(\\d+)\\..*").matcher(key);
      if (m.matches()) {
        return Integer.valueOf(m.group(1));
      }
    }
    return null;
  }

  /** r for {@code key}: rank_pattern's first matching key, else {@code r}. */
  public int rank(String key, int r) {
    return patternValue(rankPattern, key, r);
  }

  /** lora_alpha for {@code key}: alpha_pattern's first matching key, else {@code alpha}. */
  public double alpha(String key, double alpha) {
    return patternValue(alphaPattern, key, alpha);
  }

  private static <T> T patternValue(Map<String, T> patterns, String key, T otherwise) {
    for (Map.Entry<String, T> e : patterns.entrySet()) {
      if (Pattern.compile("(.*\\.)?(" + e.getKey() + ")").matcher(key).matches()) {
        return e.getValue();
      }
    }
    return otherwise;
  }
}
