package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.checkpoint.Safetensors;
import dev.tuneforge.llm.model.Linear;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.StoredWeight;
import dev.tuneforge.llm.model.WeightNames;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A LoRA adapter over a Llama model: builds a {@link LoraLinear} for every targeted projection
 * while the model is wired, and keeps its tensors under PEFT's names ({@code
 * base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}) so it saves and loads in the
 * format Python's {@code peft} reads.
 */
public final class LoraAdapter implements Adapter {
  /** PEFT's prefix of every adapter tensor of a causal LM. */
  public static final String PEFT_PREFIX = "base_model.model.";

  private final LoraSettings settings;
  private final Random init;
  private final Map<String, NDArray> loaded;
  private final Map<String, LoraLinear> layers = new LinkedHashMap<>();
  private final Map<String, NDArray> parameters = new LinkedHashMap<>();

  /** modules_to_save by PEFT name: {original, trained copy}. */
  private final Map<String, NDArray[]> savedModules = new LinkedHashMap<>();

  private boolean enabled = true;

  private LoraAdapter(LoraSettings settings, Random init, Map<String, NDArray> loaded) {
    this.settings = settings;
    this.init = init;
    this.loaded = loaded;
  }

  /**
   * A fresh adapter: A ~ U(-1/sqrt(in), 1/sqrt(in)) from {@code seed} (PEFT's Kaiming init), or
   * N(0, 1/r) with init_lora_weights "gaussian"; B = 0.
   */
  public static LoraAdapter create(LoraSettings settings, long seed) {
    return new LoraAdapter(settings, new Random(seed), null);
  }

  /** An adapter whose tensors come from {@code tensors} (PEFT names); see {@link PeftLora}. */
  static LoraAdapter of(LoraSettings settings, Map<String, NDArray> tensors) {
    return new LoraAdapter(settings, null, tensors);
  }

  public LoraSettings settings() {
    return settings;
  }

  @Override
  public String peftType() {
    return "LORA";
  }

  /** The projections to build the model with: LoRA on targeted modules, dense elsewhere. */
  @Override
  public Projections projections(Projections base) {
    return new Projections() {
      @Override
      public Linear create(int layer, String module, StoredWeight weight, NDArray bias) {
        return adapt(base, layer, module, weight, bias);
      }

      @Override
      public java.util.function.Supplier<NDArray> module(String name, NDArray original) {
        return saved(name, original);
      }
    };
  }

  private Linear adapt(
      Projections base, int layer, String module, StoredWeight weight, NDArray bias) {
    Linear dense = base.create(layer, module, weight, bias);
    String name = PEFT_PREFIX + WeightNames.layer(layer) + module;
    boolean adapted = settings.targets(layer, module);
    if (bias != null
        && (settings.bias().equals("all") || (adapted && settings.bias().equals("lora_only")))) {
      // PEFT keeps a targeted module's bias on the layer the LoRA layer wraps (base_layer)
      trainBias(adapted ? name + ".base_layer.bias" : name + ".bias", name + ".bias", bias);
    }
    if (!adapted) {
      return dense;
    }
    NDManager manager = weight.manager();
    long out = weight.shape().get(0);
    long in = weight.shape().get(1);
    DataType type = weight.dataType();
    int rank = settings.rank(layer, module);
    NDArray a = tensor(manager, name + ".lora_A.weight", rank, in, type);
    NDArray b = tensor(manager, name + ".lora_B.weight", out, rank, type);
    a.setRequiresGradient(true);
    b.setRequiresGradient(true);
    NDArray scale =
        manager.full(new Shape(), (float) settings.scale(layer, module)).toType(type, false);
    NDArray magnitude = settings.useDora() ? magnitude(manager, name, dense, type) : null;
    LoraLinear lora = new LoraLinear(dense, a, b, scale, (float) settings.dropout(), magnitude);
    if (settings.loraBias()) {
      NDArray loraBias = loraBias(manager, name + ".lora_B.bias", out, type);
      loraBias.setRequiresGradient(true);
      lora.setLoraBias(loraBias);
      parameters.put(name + ".lora_B.bias", loraBias);
    }
    layers.put(name, lora);
    parameters.put(name + ".lora_A.weight", a);
    parameters.put(name + ".lora_B.weight", b);
    if (magnitude != null) {
      parameters.put(name + ".lora_magnitude_vector", magnitude);
    }
    return lora;
  }

  /**
   * modules_to_save: a trained full copy of embed_tokens or lm_head, used while the adapter is
   * enabled and saved in the adapter under the module's own name, as PEFT does.
   */
  private java.util.function.Supplier<NDArray> saved(String name, NDArray original) {
    String module =
        name.equals(WeightNames.EMBED_TOKENS)
            ? "embed_tokens"
            : name.equals(WeightNames.LM_HEAD) ? "lm_head" : name;
    if (!settings.modulesToSave().contains(module)) {
      return () -> original;
    }
    String peftName = PEFT_PREFIX + name;
    NDArray copy;
    if (loaded != null) {
      NDArray stored = loaded.get(peftName);
      if (stored == null || !stored.getShape().equals(original.getShape())) {
        throw new IllegalArgumentException(
            "adapter lists "
                + module
                + " in modules_to_save but has no tensor "
                + peftName
                + " "
                + original.getShape());
      }
      copy = stored.toType(original.getDataType(), true);
    } else {
      copy = original.duplicate();
    }
    copy.attach(original.getManager());
    copy.setRequiresGradient(true);
    parameters.put(peftName, copy);
    savedModules.put(peftName, new NDArray[] {original, copy});
    return () -> enabled ? copy : original;
  }

  /** DoRA's magnitude: loaded, or the row norms of the base weight (B = 0 at the start). */
  private NDArray magnitude(NDManager manager, String name, Linear base, DataType type) {
    NDArray magnitude;
    if (loaded != null) {
      NDArray saved = loaded.get(name + ".lora_magnitude_vector");
      if (saved == null) {
        throw new IllegalArgumentException(
            "adapter has use_dora but no tensor " + name + ".lora_magnitude_vector");
      }
      magnitude = saved.toType(type, true);
    } else {
      try (NDManager scope = manager.newSubManager()) {
        NDArray weight = ((dev.tuneforge.llm.model.WeightedLinear) base).weight(scope);
        magnitude =
            dev.tuneforge.llm.engine.Autograd.withGrad(
                false,
                () -> {
                  NDArray squared = weight.mul(weight); // attach: weight may be the model's own
                  squared.attach(scope);
                  return squared.sum(new int[] {1}).sqrt();
                });
        magnitude.attach(manager);
      }
    }
    magnitude.attach(manager);
    magnitude.setRequiresGradient(true);
    return magnitude;
  }

  /**
   * Trains a projection's bias with the adapter under PEFT's key {@code name}; a loaded adapter's
   * value replaces the base's ({@code legacy}, the key TuneForge wrote before, is read too).
   */
  private void trainBias(String name, String legacy, NDArray bias) {
    if (loaded != null) {
      NDArray saved = loaded.containsKey(name) ? loaded.get(name) : loaded.get(legacy);
      if (saved == null) {
        throw new IllegalArgumentException(
            "adapter has bias=" + settings.bias() + " but no tensor " + name);
      }
      dev.tuneforge.llm.engine.Autograd.withGrad(
          false,
          () -> {
            bias.set(saved.toType(bias.getDataType(), false).toByteBuffer());
            return null;
          });
    }
    bias.setRequiresGradient(true);
    parameters.put(name, bias);
  }

  /** PEFT's lora_B bias (out): zeros, as PEFT starts it, or the loaded adapter's. */
  private NDArray loraBias(NDManager manager, String name, long out, DataType type) {
    if (loaded == null) {
      return manager.zeros(new Shape(out), type);
    }
    NDArray tensor = loaded.get(name);
    if (tensor == null || !tensor.getShape().equals(new Shape(out))) {
      throw new IllegalArgumentException(
          "adapter has lora_bias=true but no tensor " + name + " (" + out + ")");
    }
    NDArray copy = tensor.toType(type, true);
    copy.attach(manager);
    return copy;
  }

  private NDArray tensor(NDManager manager, String name, long rows, long cols, DataType type) {
    Shape shape = new Shape(rows, cols);
    if (loaded != null) {
      NDArray tensor = loaded.get(name);
      if (tensor == null) {
        throw new IllegalArgumentException("adapter has no tensor " + name + " " + shape);
      }
      if (!tensor.getShape().equals(shape)) {
        throw new IllegalArgumentException(
            "adapter tensor "
                + name
                + " has shape "
                + tensor.getShape()
                + " but the model needs "
                + shape);
      }
      NDArray copy = tensor.toType(type, true);
      copy.attach(manager);
      return copy;
    }
    if (name.endsWith("lora_B.weight")) {
      return manager.zeros(shape, type);
    }
    float[] values = new float[(int) (rows * cols)];
    if (settings.initLoraWeights().equals("gaussian")) {
      double std = 1.0 / rows; // PEFT: normal_(lora_A, std=1/r), rows = this module's rank
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (init.nextGaussian() * std);
      }
    } else {
      double bound = 1.0 / Math.sqrt(cols);
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) ((init.nextDouble() * 2 - 1) * bound);
      }
    }
    return manager.create(values, shape).toType(type, false);
  }

  /** The trainable tensors by PEFT name (A and B of every adapted projection). */
  @Override
  public Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(parameters);
  }

  /** The adapted layers by PEFT module name. */
  public Map<String, LoraLinear> layers() {
    return Collections.unmodifiableMap(layers);
  }

  /** Switches dropout on (training) or off (evaluation and generation). */
  @Override
  public void setTraining(boolean training) {
    layers.values().forEach(l -> l.setTraining(training));
  }

  /** Disables (base model only) or enables the adapter, e.g. for a reference model. */
  @Override
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
    layers.values().forEach(l -> l.setEnabled(enabled));
  }

  /**
   * Folds the adapter into the base weights (for export). A trained modules_to_save copy replaces
   * its module, which cannot be undone; a tied lm_head copy is refused, since the export would lose
   * it.
   */
  @Override
  public void merge() {
    layers.values().forEach(LoraLinear::checkMergeable); // all or nothing
    layers.values().forEach(LoraLinear::merge);
    savedModules.forEach(
        (name, pair) -> {
          if (name.endsWith(WeightNames.LM_HEAD)
              && pair[0].getName() != null
              && pair[0].getName().equals(WeightNames.EMBED_TOKENS)) {
            throw new IllegalStateException(
                "cannot merge modules_to_save lm_head into a model with tied embeddings; save the adapter instead");
          }
          dev.tuneforge.llm.engine.Autograd.withGrad(
              false,
              () -> {
                pair[0].set(pair[1].toByteBuffer());
                return null;
              });
        });
  }

  public void unmerge() {
    layers.values().forEach(LoraLinear::unmerge);
  }

  /** Writes adapter_config.json and adapter_model.safetensors as PEFT does. */
  @Override
  public void save(Path dir, String baseModelName) {
    PeftLora.save(this, dir, baseModelName);
  }

  /** The adapter_config.json PEFT writes for these settings. */
  JsonObject peftConfig(String baseModelName) {
    JsonObject json = new JsonObject();
    json.addProperty("peft_type", "LORA");
    json.addProperty("task_type", "CAUSAL_LM");
    json.addProperty("base_model_name_or_path", baseModelName);
    json.addProperty("r", settings.r());
    json.addProperty("lora_alpha", settings.alpha());
    json.addProperty("lora_dropout", settings.dropout());
    LoraTargets rules = settings.rules();
    if (rules.targetRegex() != null) {
      json.addProperty("target_modules", rules.targetRegex());
    } else {
      JsonArray targets = new JsonArray();
      settings.targetModules().forEach(targets::add);
      json.add("target_modules", targets);
    }
    if (rules.excludeRegex() != null) {
      json.addProperty("exclude_modules", rules.excludeRegex());
    } else if (!rules.excludeModules().isEmpty()) {
      JsonArray excluded = new JsonArray();
      rules.excludeModules().forEach(excluded::add);
      json.add("exclude_modules", excluded);
    }
    json.addProperty("bias", settings.bias());
    json.addProperty("fan_in_fan_out", false);
    json.addProperty("inference_mode", true);
    if (settings.initLoraWeights().equals("true")) {
      json.addProperty("init_lora_weights", true);
    } else {
      json.addProperty("init_lora_weights", settings.initLoraWeights());
    }
    json.addProperty("use_rslora", settings.useRslora());
    json.addProperty("use_dora", settings.useDora());
    json.addProperty("lora_bias", settings.loraBias());
    if (settings.modulesToSave().isEmpty()) {
      json.add("modules_to_save", null);
    } else {
      JsonArray modules = new JsonArray();
      settings.modulesToSave().forEach(modules::add);
      json.add("modules_to_save", modules);
    }
    com.google.gson.Gson gson = new com.google.gson.Gson();
    json.add(
        "layers_to_transform",
        rules.layersToTransform() == null ? null : gson.toJsonTree(rules.layersToTransform()));
    json.add(
        "layers_pattern",
        rules.layersPattern() == null ? null : gson.toJsonTree(rules.layersPattern()));
    json.add("rank_pattern", gson.toJsonTree(rules.rankPattern()));
    json.add("alpha_pattern", gson.toJsonTree(rules.alphaPattern()));
    json.add("revision", null);
    return json;
  }

  static Map<String, String> metadata() {
    return Map.of("format", "pt");
  }

  /** Every tensor of an adapter's safetensors file, as float32, by name. */
  public static Map<String, NDArray> read(NDManager manager, Path file) {
    Safetensors.Header header = Safetensors.readHeader(file);
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    for (String name : header.tensors().keySet()) {
      tensors.put(
          name,
          Safetensors.read(manager, file, header, name, ai.djl.ndarray.types.DataType.FLOAT32));
    }
    return tensors;
  }
}
