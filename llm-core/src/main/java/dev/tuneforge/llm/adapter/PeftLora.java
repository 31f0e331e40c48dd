package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.checkpoint.Safetensors;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Hugging Face PEFT adapter directory for LoRA: {@code adapter_config.json} plus {@code
 * adapter_model.safetensors} with PEFT key names and the adapter name stripped. Unknown config keys
 * are tolerated, as in PEFT; options TuneForge does not implement are refused by name.
 */
public final class PeftLora {
  public static final String CONFIG_FILE = PeftAdapters.CONFIG_FILE;
  public static final String WEIGHTS_FILE = PeftAdapters.WEIGHTS_FILE;

  private PeftLora() {}

  static void save(LoraAdapter adapter, Path dir, String baseModelName) {
    try {
      Files.createDirectories(dir);
      Files.writeString(
          dir.resolve(CONFIG_FILE),
          new GsonBuilder()
              .setPrettyPrinting()
              .serializeNulls()
              .create()
              .toJson(adapter.peftConfig(baseModelName)));
      Safetensors.write(dir.resolve(WEIGHTS_FILE), adapter.parameters(), LoraAdapter.metadata());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the adapter to " + dir, e);
    }
  }

  /**
   * The base model in {@code baseDir} with the PEFT adapter of {@code adapterDir} on it: LoRA, or
   * any type {@link PeftAdapters} reads.
   */
  public static LlamaModel loadOnto(Path baseDir, Path adapterDir, Compute compute) {
    return PeftAdapters.loadOnto(baseDir, adapterDir, compute);
  }

  /**
   * Reads a PEFT LoRA adapter directory; tensors land in {@code manager} until the model is built.
   */
  public static LoraAdapter load(Path dir, NDManager manager) {
    JsonObject config = PeftAdapters.config(dir);
    LoraSettings settings = settings(config, dir.resolve(CONFIG_FILE));
    Map<String, NDArray> tensors = LoraAdapter.read(manager, dir.resolve(WEIGHTS_FILE));
    return LoraAdapter.of(settings, tensors);
  }

  static LoraSettings settings(JsonObject config, Path file) {
    String type = text(config, "peft_type", "");
    if (!type.equals("LORA")) {
      throw new IllegalArgumentException(file + ": peft_type \"" + type + "\" is not LORA");
    }
    refuseUnsupported(config, file);
    List<String> targets = new ArrayList<>();
    String targetRegex = null;
    JsonElement target = config.get("target_modules");
    if (target != null && target.isJsonArray()) {
      target.getAsJsonArray().forEach(t -> targets.add(t.getAsString()));
    } else if (target != null && target.isJsonPrimitive()) {
      if (target.getAsString().equals("all-linear")) {
        targets.add("all-linear");
      } else {
        targetRegex = target.getAsString();
      }
    }
    JsonElement exclude = config.get("exclude_modules");
    LoraTargets rules;
    try {
      rules =
          new LoraTargets(
              targetRegex,
              integers(config.get("layers_to_transform")),
              stringsOrNull(config.get("layers_pattern")),
              exclude != null && exclude.isJsonPrimitive() ? exclude.getAsString() : null,
              exclude != null && exclude.isJsonArray() ? strings(exclude) : List.of(),
              ranks(config.get("rank_pattern")),
              alphas(config.get("alpha_pattern")));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
    return new LoraSettings(
        config.get("r").getAsInt(),
        config.get("lora_alpha").getAsDouble(),
        config.has("lora_dropout") ? config.get("lora_dropout").getAsDouble() : 0.0,
        targets,
        config.has("use_rslora") && config.get("use_rslora").getAsBoolean(),
        text(config, "bias", "none"),
        config.has("use_dora")
            && !config.get("use_dora").isJsonNull()
            && config.get("use_dora").getAsBoolean(),
        strings(config.get("modules_to_save")),
        rules,
        config.has("lora_bias")
            && !config.get("lora_bias").isJsonNull()
            && config.get("lora_bias").getAsBoolean(),
        // how A was drawn: kept when it is one TuneForge draws, so a re-save says the same
        text(config, "init_lora_weights", "true").equals("gaussian") ? "gaussian" : "true");
  }

  /**
   * Options of PEFT's LoraConfig that change what the adapter computes and that TuneForge does not
   * implement: refused by name when set, so an adapter is never applied differently than peft
   * would. Keys that only describe training (init, runtime, task) are read past.
   */
  private static void refuseUnsupported(JsonObject config, Path file) {
    refuse(config, file, "fan_in_fan_out", false);
    refuse(config, file, "use_qalora", false);
    for (String key :
        List.of(
            "megatron_config",
            "trainable_token_indices",
            "alora_invocation_tokens",
            "layer_replication",
            "target_parameters",
            "use_bdlora",
            "arrow_config",
            "kasa_config",
            "velora_config",
            "monteclora_config")) {
      JsonElement value = config.get(key);
      boolean empty =
          value == null
              || value.isJsonNull()
              || (value.isJsonArray() && value.getAsJsonArray().isEmpty())
              || (value.isJsonObject() && value.getAsJsonObject().isEmpty())
              || (value.isJsonPrimitive()
                  && value.getAsJsonPrimitive().isBoolean()
                  && !value.getAsBoolean());
      if (!empty) {
        throw new IllegalArgumentException(
            file + ": " + key + " = " + value + " is not supported by TuneForge's LoRA");
      }
    }
    JsonElement init = config.get("init_lora_weights");
    if (init != null && init.isJsonPrimitive() && init.getAsJsonPrimitive().isString()) {
      String method = init.getAsString();
      if (method.startsWith("pissa")
          || List.of("olora", "corda", "loftq", "lora_ga").contains(method)) {
        throw new IllegalArgumentException(
            file
                + ": init_lora_weights \""
                + method
                + "\" changes the base weights as well as the adapter; convert the adapter to"
                + " plain LoRA in peft first (path_initial_model_for_weight_conversion)");
      }
    }
  }

  private static List<Integer> integers(JsonElement value) {
    if (value == null || value.isJsonNull()) {
      return null;
    }
    List<Integer> out = new ArrayList<>();
    if (value.isJsonArray()) {
      value.getAsJsonArray().forEach(v -> out.add(v.getAsInt()));
    } else {
      out.add(value.getAsInt());
    }
    return out;
  }

  private static List<String> stringsOrNull(JsonElement value) {
    if (value == null || value.isJsonNull()) {
      return null;
    }
    return value.isJsonArray() ? strings(value) : List.of(value.getAsString());
  }

  private static Map<String, Integer> ranks(JsonElement value) {
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    if (value != null && value.isJsonObject()) {
      value.getAsJsonObject().entrySet().forEach(e -> out.put(e.getKey(), e.getValue().getAsInt()));
    }
    return out;
  }

  private static Map<String, Double> alphas(JsonElement value) {
    Map<String, Double> out = new java.util.LinkedHashMap<>();
    if (value != null && value.isJsonObject()) {
      value
          .getAsJsonObject()
          .entrySet()
          .forEach(e -> out.put(e.getKey(), e.getValue().getAsDouble()));
    }
    return out;
  }

  private static void refuse(JsonObject config, Path file, String key, boolean supported) {
    JsonElement value = config.get(key);
    if (value != null && !value.isJsonNull() && value.getAsBoolean() != supported) {
      throw new IllegalArgumentException(file + ": " + key + " = " + value + " is not supported");
    }
  }

  private static List<String> strings(JsonElement value) {
    List<String> strings = new ArrayList<>();
    if (value != null && value.isJsonArray()) {
      value.getAsJsonArray().forEach(v -> strings.add(v.getAsString()));
    }
    return strings;
  }

  private static String text(JsonObject config, String key, String fallback) {
    JsonElement value = config.get(key);
    return value == null || value.isJsonNull() ? fallback : value.getAsString();
  }
}
