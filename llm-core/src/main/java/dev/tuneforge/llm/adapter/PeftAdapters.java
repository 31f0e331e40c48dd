package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter;
import dev.tuneforge.llm.adapter.ia3.Ia3Adapter;
import dev.tuneforge.llm.adapter.prefix.PrefixTuningAdapter;
import dev.tuneforge.llm.adapter.prompt.PromptTuningAdapter;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.model.LlamaModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads any Hugging Face PEFT adapter directory TuneForge implements, by its {@code peft_type}:
 * {@code LORA} (with DoRA), {@code IA3}, {@code PROMPT_TUNING}, {@code PREFIX_TUNING} and {@code
 * ADALORA}. Another type is refused by name, never read as LoRA.
 */
public final class PeftAdapters {
  public static final String CONFIG_FILE = "adapter_config.json";
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";

  /** The peft_types read here. */
  public static final java.util.List<String> SUPPORTED =
      java.util.List.of(
          "LORA",
          Ia3Adapter.PEFT_TYPE,
          PromptTuningAdapter.PEFT_TYPE,
          PrefixTuningAdapter.PEFT_TYPE,
          AdaLoraAdapter.PEFT_TYPE);

  private PeftAdapters() {}

  /** The base model in {@code baseDir} with the adapter of {@code adapterDir} on it. */
  public static LlamaModel loadOnto(Path baseDir, Path adapterDir, Compute compute) {
    try (NDManager staging = Torch.engine().newBaseManager()) {
      Adapter adapter = load(adapterDir, staging);
      return LlamaModel.load(
          baseDir, compute, adapter.projections(LlamaModel.inferenceProjections(baseDir)));
    }
  }

  /** PEFT's task type of a sequence-classification adapter (a reward model's). */
  public static final String SEQ_CLS = "SEQ_CLS";

  /**
   * Reads an adapter directory; tensors land in {@code manager} until the model is built. A
   * sequence-classification adapter is refused: it goes with a score head onto a reward model
   * ({@code RewardModel.open}), not onto a causal LM.
   */
  public static Adapter load(Path dir, NDManager manager) {
    JsonObject config = config(dir);
    Path file = dir.resolve(CONFIG_FILE);
    if (SEQ_CLS.equals(taskType(config))) {
      throw new IllegalArgumentException(
          file
              + ": task_type SEQ_CLS is a sequence-classification adapter (a reward model, its"
              + " score head saved with it); load it as a reward model, not onto a causal LM");
    }
    if (!SUPPORTED.contains(peftType(config))) {
      throw unsupported(peftType(config), file);
    }
    return of(config, file, tensors(dir, manager));
  }

  private static IllegalArgumentException unsupported(String type, Path file) {
    return new IllegalArgumentException(
        file
            + ": peft_type \""
            + type
            + "\" is not supported by TuneForge (it reads "
            + String.join(", ", SUPPORTED)
            + ")");
  }

  /** The adapter {@code config} (read from {@code file}) describes, over its PEFT-named tensors. */
  public static Adapter of(JsonObject config, Path file, Map<String, NDArray> tensors) {
    String type = peftType(config);
    return switch (type) {
      case "LORA" -> LoraAdapter.of(PeftLora.settings(config, file), tensors);
      case Ia3Adapter.PEFT_TYPE -> Ia3Adapter.of(Ia3Adapter.settings(config, file), tensors);
      case AdaLoraAdapter.PEFT_TYPE ->
          AdaLoraAdapter.of(AdaLoraAdapter.settings(config, file), tensors);
      case PrefixTuningAdapter.PEFT_TYPE ->
          PrefixTuningAdapter.of(PrefixTuningAdapter.settings(config, file), tensors);
      case PromptTuningAdapter.PEFT_TYPE ->
          PromptTuningAdapter.of(PromptTuningAdapter.settings(config, file), tensors);
      default -> throw unsupported(type, file);
    };
  }

  /**
   * Writes an adapter directory as PEFT does: {@code adapter_config.json} (nulls kept) and {@code
   * adapter_model.safetensors} with PEFT's {@code format: pt} metadata.
   */
  public static void write(Path dir, JsonObject config, Map<String, NDArray> tensors) {
    try {
      Files.createDirectories(dir);
      Files.writeString(
          dir.resolve(CONFIG_FILE),
          new com.google.gson.GsonBuilder()
              .setPrettyPrinting()
              .serializeNulls()
              .create()
              .toJson(config));
      dev.tuneforge.llm.checkpoint.Safetensors.write(
          dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the adapter to " + dir, e);
    }
  }

  /** Refuses {@code key} of {@code method}'s config by name when it is set as {@code set} says. */
  public static void refuse(
      JsonObject config,
      Path file,
      String method,
      String key,
      java.util.function.Predicate<JsonElement> set) {
    JsonElement value = config.get(key);
    if (value != null && !value.isJsonNull() && set.test(value)) {
      throw new IllegalArgumentException(
          file + ": " + method + " " + key + " " + value + " is not supported by TuneForge");
    }
  }

  /** Whether a list option is set to something other than an empty list. */
  public static boolean nonEmpty(JsonElement value) {
    return !(value.isJsonArray() && value.getAsJsonArray().isEmpty());
  }

  /**
   * The checks every prompt-learning config (prompt and prefix tuning) takes on a causal LM: one
   * transformer submodule (an encoder-decoder has two), no modules_to_save.
   */
  public static void checkCausalPromptLearning(JsonObject config, Path file, String method) {
    JsonElement submodules = config.get("num_transformer_submodules");
    if (submodules != null && !submodules.isJsonNull() && submodules.getAsInt() != 1) {
      throw new IllegalArgumentException(
          file
              + ": num_transformer_submodules "
              + submodules
              + " is an encoder-decoder's; a causal LM has 1");
    }
    refuse(config, file, method, "modules_to_save", PeftAdapters::nonEmpty);
  }

  /** The tensors of an adapter directory's weights file, by their saved names. */
  public static Map<String, NDArray> tensors(Path dir, NDManager manager) {
    return LoraAdapter.read(manager, dir.resolve(WEIGHTS_FILE));
  }

  /** The adapter_config.json of a directory, after checking the weights file is there. */
  public static JsonObject config(Path dir) {
    Path configFile = dir.resolve(CONFIG_FILE);
    if (!Files.isRegularFile(configFile)) {
      throw new IllegalArgumentException(
          dir + " is not a PEFT adapter: " + CONFIG_FILE + " is missing");
    }
    if (!Files.isRegularFile(dir.resolve(WEIGHTS_FILE))) {
      boolean pickle = Files.exists(dir.resolve("adapter_model.bin"));
      throw new IllegalArgumentException(
          dir
              + " has no "
              + WEIGHTS_FILE
              + (pickle
                  ? "; adapter_model.bin is a pickle, which TuneForge never loads: save with"
                      + " safe_serialization=True"
                  : ""));
    }
    try {
      return JsonParser.parseString(Files.readString(configFile)).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + configFile, e);
    }
  }

  /** PEFT's task_type of {@code config}; empty when unset. */
  public static String taskType(JsonObject config) {
    JsonElement type = config.get("task_type");
    return type == null || type.isJsonNull() ? "" : type.getAsString();
  }

  private static String peftType(JsonObject config) {
    JsonElement type = config.get("peft_type");
    return type == null || type.isJsonNull() ? "" : type.getAsString();
  }
}
