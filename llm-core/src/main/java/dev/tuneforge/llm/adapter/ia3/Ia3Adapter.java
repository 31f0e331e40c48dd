package dev.tuneforge.llm.adapter.ia3;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.adapter.Adapter;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.PeftAdapters;
import dev.tuneforge.llm.model.Linear;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.StoredWeight;
import dev.tuneforge.llm.model.WeightNames;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An IA3 adapter over a Llama model: an {@link Ia3Linear} for every targeted projection, its vector
 * under PEFT's name ({@code base_model.model.model.layers.0.self_attn.k_proj.ia3_l}, shape (out,
 * 1), or (1, in) for a feed-forward module), saved and read in PEFT's format.
 */
public final class Ia3Adapter implements Adapter {
  public static final String PEFT_TYPE = "IA3";

  private final Ia3Settings settings;
  private final Map<String, NDArray> loaded;
  private final Map<String, Ia3Linear> layers = new LinkedHashMap<>();
  private final Map<String, NDArray> parameters = new LinkedHashMap<>();

  private Ia3Adapter(Ia3Settings settings, Map<String, NDArray> loaded) {
    this.settings = settings;
    this.loaded = loaded;
  }

  /** A fresh adapter: every vector ones (PEFT's init_ia3_weights), so the model is its base. */
  public static Ia3Adapter create(Ia3Settings settings) {
    return new Ia3Adapter(settings, null);
  }

  /** An adapter whose vectors come from {@code tensors} (PEFT names). */
  public static Ia3Adapter of(Ia3Settings settings, Map<String, NDArray> tensors) {
    return new Ia3Adapter(settings, tensors);
  }

  public Ia3Settings settings() {
    return settings;
  }

  @Override
  public String peftType() {
    return PEFT_TYPE;
  }

  @Override
  public Projections projections(Projections base) {
    return (layer, module, weight, bias) -> adapt(base, layer, module, weight, bias);
  }

  private Linear adapt(
      Projections base, int layer, String module, StoredWeight weight, NDArray bias) {
    Linear dense = base.create(layer, module, weight, bias);
    if (!settings.targets(layer, module)) {
      return dense;
    }
    if (dense.frozenBase()) {
      throw new IllegalArgumentException(
          "IA3 over a quantized or half-precision frozen base is not supported; load the base in"
              + " float32 (method ia3, not over qlora)");
    }
    String name = LoraAdapter.PEFT_PREFIX + WeightNames.layer(layer) + module + ".ia3_l";
    boolean feedforward = settings.feedforward(layer, module);
    Shape shape =
        feedforward ? new Shape(1, weight.shape().get(1)) : new Shape(weight.shape().get(0), 1);
    NDManager manager = weight.manager();
    NDArray scale;
    if (loaded != null) {
      NDArray stored = loaded.get(name);
      if (stored == null || !stored.getShape().equals(shape)) {
        throw new IllegalArgumentException(
            "adapter has no tensor "
                + name
                + " "
                + shape
                + (stored == null ? "" : " (found " + stored.getShape() + ")"));
      }
      scale = stored.toType(weight.dataType(), true);
      scale.attach(manager);
    } else {
      scale = manager.ones(shape, weight.dataType());
    }
    scale.setRequiresGradient(true);
    Ia3Linear ia3 = new Ia3Linear(dense, scale, feedforward);
    layers.put(name, ia3);
    parameters.put(name, scale);
    return ia3;
  }

  @Override
  public Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(parameters);
  }

  @Override
  public void setTraining(boolean training) {
    // IA3 has no dropout.
  }

  @Override
  public void setEnabled(boolean enabled) {
    layers.values().forEach(l -> l.setEnabled(enabled));
  }

  @Override
  public void merge() {
    layers.values().forEach(Ia3Linear::checkMergeable); // all or nothing
    layers.values().forEach(Ia3Linear::merge);
  }

  @Override
  public void save(Path dir, String baseModelName) {
    PeftAdapters.write(dir, peftConfig(baseModelName), parameters);
  }

  /** The adapter_config.json PEFT writes for an IA3Config. */
  JsonObject peftConfig(String baseModelName) {
    JsonObject json = new JsonObject();
    json.addProperty("peft_type", PEFT_TYPE);
    json.addProperty("task_type", "CAUSAL_LM");
    json.addProperty("base_model_name_or_path", baseModelName);
    json.add("target_modules", names(settings.targetRegex(), settings.targetModules()));
    json.add(
        "feedforward_modules", names(settings.feedforwardRegex(), settings.feedforwardModules()));
    json.add("exclude_modules", null);
    json.addProperty("fan_in_fan_out", false);
    json.add("modules_to_save", null);
    json.addProperty("init_ia3_weights", true);
    json.addProperty("inference_mode", true);
    json.add("revision", null);
    return json;
  }

  private static JsonElement names(String regex, List<String> names) {
    if (regex != null) {
      return new com.google.gson.JsonPrimitive(regex);
    }
    JsonArray list = new JsonArray();
    names.forEach(list::add);
    return list;
  }

  /**
   * The settings of a PEFT IA3 adapter_config.json; what TuneForge does not implement
   * (fan_in_fan_out, modules_to_save, exclude_modules) is refused by name.
   */
  public static Ia3Settings settings(JsonObject config, Path file) {
    refuse(config, file, "fan_in_fan_out", v -> v.isJsonPrimitive() && v.getAsBoolean());
    refuse(config, file, "modules_to_save", PeftAdapters::nonEmpty);
    refuse(config, file, "exclude_modules", PeftAdapters::nonEmpty);
    JsonElement targets = config.get("target_modules");
    JsonElement feedforward = config.get("feedforward_modules");
    try {
      return new Ia3Settings(
          targets != null && targets.isJsonArray() ? strings(targets) : List.of(),
          targets != null && targets.isJsonPrimitive() ? targets.getAsString() : null,
          feedforward != null && feedforward.isJsonArray() ? strings(feedforward) : List.of(),
          feedforward != null && feedforward.isJsonPrimitive() ? feedforward.getAsString() : null);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static void refuse(
      JsonObject config, Path file, String key, java.util.function.Predicate<JsonElement> set) {
    PeftAdapters.refuse(config, file, "IA3", key, set);
  }

  private static List<String> strings(JsonElement value) {
    List<String> out = new ArrayList<>();
    value.getAsJsonArray().forEach(v -> out.add(v.getAsString()));
    return out;
  }
}
