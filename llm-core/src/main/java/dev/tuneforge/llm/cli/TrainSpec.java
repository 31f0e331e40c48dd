package dev.tuneforge.llm.cli;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.recipe.EvalPolicy;
import dev.tuneforge.llm.recipe.SftSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A local training job in one JSON file, with TRL SFTConfig and PEFT LoraConfig names, e.g.
 *
 * <pre>{@code {"model": "/models/tiny", "train_file": "train.jsonl", "method": "qlora",
 *  "output_dir": "out", "learning_rate": 2e-4, "max_steps": 200, "lora": {"r": 16}}}</pre>
 *
 * Unset values take the TRL/PEFT defaults listed here; unknown keys are refused by name.
 */
public final class TrainSpec {
  String model;
  String trainFile;
  String evalFile;
  String outputDir = "tuneforge-output";

  /** full, lora, qlora, ia3, prompt (prompt tuning), prefix (prefix tuning) or adalora. */
  String method = "lora";

  String chatTemplate;

  /** cpu, cuda, cuda:N or auto (see {@link dev.tuneforge.llm.engine.Compute}). */
  String device = "cpu";

  double learningRate = 2e-4;
  long maxSteps = -1;
  double numTrainEpochs = 3;
  int perDeviceTrainBatchSize = 8;
  int gradientAccumulationSteps = 1;
  double maxGradNorm = -1;
  String lrSchedulerType = "linear";
  double warmupRatio = 0.03;
  int warmupSteps = 0;
  double weightDecay = 0.0;
  int loggingSteps = 10;
  int evalSteps = 0;
  int saveSteps = 0;
  int saveTotalLimit = 0;
  int maxSeqLength = 1024;

  /** DPO, reward models, PPO: the prompt's share of max_seq_length (TRL's); -1: half of it. */
  int maxPromptLength = -1;

  boolean packing = false;
  boolean gradientCheckpointing = false;

  /** float16 weights and compute with float32 masters and loss scaling. */
  boolean fp16 = false;

  /** Refused: DJL 0.36 aborts the JVM on bfloat16 tensors. */
  boolean bf16 = false;

  /** QLoRA: also quantize the NF4 block scales to 8 bits (bitsandbytes' name). */
  @com.google.gson.annotations.SerializedName("bnb_4bit_use_double_quant")
  boolean bnb4bitUseDoubleQuant = false;

  /** QLoRA: dtype of the dequantized matmuls, float32, float16 or auto (bitsandbytes' name). */
  @com.google.gson.annotations.SerializedName("bnb_4bit_compute_dtype")
  String bnb4bitComputeDtype = "auto";

  /** LoRA: the dtype the frozen base is kept in, float32 or float16 (transformers' name). */
  @com.google.gson.annotations.SerializedName("torch_dtype")
  String torchDtype = "float32";

  boolean groupByLength = false;
  double neftuneNoiseAlpha = 0;
  boolean completionOnlyLoss = true;
  boolean assistantOnlyLoss = false;
  long seed = 42;
  boolean loadBestModelAtEnd = false;
  String metricForBestModel = "eval_loss";
  boolean greaterIsBetter = false;
  int earlyStoppingPatience = 0;
  double earlyStoppingThreshold = 0.0;
  Lora lora = new Lora();
  Ia3 ia3 = new Ia3();
  PromptLearning promptLearning = new PromptLearning();
  AdaLora adalora = new AdaLora();

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
    int numVirtualTokens =
        dev.tuneforge.llm.adapter.prompt.PromptTuningSettings.DEFAULT_VIRTUAL_TOKENS;
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
    java.util.Map<String, Integer> rankPattern = java.util.Map.of();
    java.util.Map<String, Double> alphaPattern = java.util.Map.of();

    /** PEFT's lora_bias: B trains a bias too. */
    boolean loraBias = false;

    /** target_modules given as one string other than "all-linear": a regular expression. */
    transient String targetRegex;
  }

  private static final Gson GSON =
      new GsonBuilder()
          .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
          .create();

  /**
   * PEFT takes {@code target_modules} as a list of names or as one string: "all-linear", or else a
   * regular expression matched against full module names (model.layers.3.self_attn.q_proj). The
   * first becomes the list; a regular expression is returned (and the key removed) so it applies as
   * PEFT applies it. {@code layers_to_transform} may be one int, as in PEFT.
   */
  private static String targetModulesAsList(JsonObject lora) {
    com.google.gson.JsonElement layers = lora.get("layers_to_transform");
    if (layers != null && layers.isJsonPrimitive()) {
      com.google.gson.JsonArray list = new com.google.gson.JsonArray();
      list.add(layers);
      lora.add("layers_to_transform", list);
    }
    com.google.gson.JsonElement modules = lora.get("target_modules");
    if (modules == null || !modules.isJsonPrimitive()) {
      return null;
    }
    String value = modules.getAsString();
    if (!value.equals("all-linear")) {
      lora.remove("target_modules");
      return value;
    }
    com.google.gson.JsonArray list = new com.google.gson.JsonArray();
    list.add(value);
    lora.add("target_modules", list);
    return null;
  }

  /** Reads and validates a spec file; unknown keys are refused by name. */
  public static TrainSpec read(Path file) {
    try {
      JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
      refuseUnknown(json, TrainSpec.class, file, "");
      String targetRegex = null;
      if (json.has("ia3")) {
        refuseUnknown(json.getAsJsonObject("ia3"), Ia3.class, file, "ia3.");
      }
      if (json.has("adalora")) {
        refuseUnknown(json.getAsJsonObject("adalora"), AdaLora.class, file, "adalora.");
      }
      if (json.has("prompt_learning")) {
        refuseUnknown(
            json.getAsJsonObject("prompt_learning"),
            PromptLearning.class,
            file,
            "prompt_learning.");
      }
      if (json.has("lora")) {
        refuseUnknown(json.getAsJsonObject("lora"), Lora.class, file, "lora.");
        targetRegex = targetModulesAsList(json.getAsJsonObject("lora"));
      }
      TrainSpec spec = GSON.fromJson(json, TrainSpec.class);
      spec.lora.targetRegex = targetRegex;
      spec.loraGiven = json.has("lora") ? json.getAsJsonObject("lora") : null;
      spec.validate(file);
      if (spec.method.equals("ia3")) {
        try {
          spec.ia3Settings();
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(file + ": ia3: " + e.getMessage(), e);
        }
      } else if (spec.method.equals("adalora")) {
        try {
          spec.adaLoraSettings(json.getAsJsonObject("lora"));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(file + ": adalora: " + e.getMessage(), e);
        }
        if (spec.fp16) {
          throw new IllegalArgumentException(
              file + ": fp16 with AdaLoRA is not supported yet; turn fp16 off");
        }
      } else if (spec.method.equals("prompt") || spec.method.equals("prefix")) {
        try {
          if (spec.method.equals("prompt")) {
            spec.promptTuningSettings();
          } else {
            spec.prefixTuningSettings();
          }
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(file + ": prompt_learning: " + e.getMessage(), e);
        }
        if (spec.packing) {
          throw new IllegalArgumentException(
              file
                  + ": packing is not available with "
                  + spec.method
                  + " tuning: each packed sequence would need its own virtual tokens; set packing"
                  + " false");
        }
      } else if (!spec.method.equals("full")) {
        try {
          spec.loraSettings(); // PEFT's rules on combining options, refused before training
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(file + ": lora: " + e.getMessage(), e);
        }
      }
      return spec;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    } catch (IllegalStateException | com.google.gson.JsonParseException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private void validate(Path file) {
    if (model == null || trainFile == null) {
      throw new IllegalArgumentException(file + ": \"model\" and \"train_file\" are required");
    }
    if (bf16) {
      throw new IllegalArgumentException(
          file
              + ": "
              + dev.tuneforge.llm.engine.HalfPrecision.bfloat16Refused("bf16").getMessage());
    }
    if (maxPromptLength != -1 && (maxPromptLength < 1 || maxPromptLength >= maxSeqLength)) {
      throw new IllegalArgumentException(
          file
              + ": max_prompt_length "
              + maxPromptLength
              + " must be in [1, max_seq_length "
              + maxSeqLength
              + ")");
    }
    if (!Set.of("full", "lora", "qlora", "ia3", "prompt", "prefix", "adalora").contains(method)) {
      throw new IllegalArgumentException(
          file
              + ": method \""
              + method
              + "\" is not one of full, lora, qlora, ia3, prompt, prefix, adalora");
    }
    try {
      dev.tuneforge.llm.engine.HalfPrecision.computeType(
          "bnb_4bit_compute_dtype", bnb4bitComputeDtype, device);
      ai.djl.ndarray.types.DataType base =
          dev.tuneforge.llm.engine.HalfPrecision.storageType("torch_dtype", torchDtype);
      if (method.equals("full") && base != ai.djl.ndarray.types.DataType.FLOAT32) {
        throw new IllegalArgumentException(
            "torch_dtype "
                + torchDtype
                + " keeps a frozen base in half precision, but full fine-tuning trains every"
                + " weight in float32; use fp16 for mixed precision");
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
    try {
      compute();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static void refuseUnknown(JsonObject json, Class<?> type, Path file, String prefix) {
    Set<String> known =
        Arrays.stream(type.getDeclaredFields())
            .filter(f -> !java.lang.reflect.Modifier.isStatic(f.getModifiers()))
            .filter(f -> !java.lang.reflect.Modifier.isTransient(f.getModifiers()))
            .map(TrainSpec::jsonName)
            .collect(Collectors.toSet());
    for (String key : json.keySet()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException(
            file
                + ": unknown key \""
                + prefix
                + key
                + "\"; known: "
                + known.stream().sorted().map(k -> prefix + k).toList());
      }
    }
  }

  private static String jsonName(Field field) {
    var named = field.getAnnotation(com.google.gson.annotations.SerializedName.class);
    return named != null
        ? named.value()
        : FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES.translateName(field);
  }

  SftSettings settings() {
    double clip = maxGradNorm > 0 ? maxGradNorm : method.equals("qlora") ? 0.3 : 1.0;
    return new SftSettings(
        learningRate,
        perDeviceTrainBatchSize,
        gradientAccumulationSteps,
        maxSteps,
        numTrainEpochs,
        clip,
        lrSchedulerType,
        warmupRatio,
        warmupSteps,
        weightDecay,
        loggingSteps,
        evalSteps,
        seed);
  }

  EvalPolicy evalPolicy() {
    return new EvalPolicy(
        loadBestModelAtEnd,
        metricForBestModel,
        greaterIsBetter,
        earlyStoppingPatience,
        earlyStoppingThreshold);
  }

  LoraSettings loraSettings() {
    return new LoraSettings(
        lora.r,
        lora.loraAlpha,
        lora.loraDropout,
        lora.targetModules,
        lora.useRslora,
        lora.bias,
        lora.useDora,
        lora.modulesToSave,
        new dev.tuneforge.llm.adapter.LoraTargets(
            lora.targetRegex,
            lora.layersToTransform,
            lora.layersPattern == null ? null : List.of(lora.layersPattern),
            null,
            lora.excludeModules,
            lora.rankPattern,
            lora.alphaPattern),
        lora.loraBias);
  }

  /** The longest prompt of a preference or prompt-only record, in tokens. */
  int promptLimit() {
    return maxPromptLength > 0 ? maxPromptLength : Math.max(1, maxSeqLength / 2);
  }

  /** The named built-in chat template, else the model's own, else none. */
  dev.tuneforge.llm.data.ChatTemplate template(dev.tuneforge.llm.tokenizer.Tokenizer tokenizer) {
    return chatTemplate != null
        ? dev.tuneforge.llm.data.ChatTemplate.builtIn(chatTemplate)
        : dev.tuneforge.llm.data.ChatTemplate.fromModel(
                Path.of(model), tokenizer.config(), "default")
            .orElse(null);
  }

  /**
   * IA3's settings: the given target and feed-forward modules, else PEFT's defaults for the model's
   * {@code model_type} (read from its config.json).
   */
  dev.tuneforge.llm.adapter.ia3.Ia3Settings ia3Settings() {
    if (ia3.targetModules == null) {
      dev.tuneforge.llm.adapter.ia3.Ia3Settings defaults =
          dev.tuneforge.llm.adapter.ia3.Ia3Settings.defaults(modelType());
      return ia3.feedforwardModules == null
          ? defaults
          : new dev.tuneforge.llm.adapter.ia3.Ia3Settings(
              defaults.targetModules(), null, ia3.feedforwardModules, null);
    }
    return new dev.tuneforge.llm.adapter.ia3.Ia3Settings(
        ia3.targetModules,
        null,
        ia3.feedforwardModules == null
            ? ia3.targetModules.stream().filter(m -> m.equals("down_proj")).toList()
            : ia3.feedforwardModules,
        null);
  }

  private String modelType() {
    Path config = Path.of(model).resolve("config.json");
    try {
      com.google.gson.JsonElement type =
          JsonParser.parseString(Files.readString(config)).getAsJsonObject().get("model_type");
      return type == null ? "" : type.getAsString();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + config, e);
    }
  }

  /** Prompt tuning's settings, PEFT's names; the model's directory is its tokenizer. */
  dev.tuneforge.llm.adapter.prompt.PromptTuningSettings promptTuningSettings() {
    if (promptLearning.prefixProjection != null || promptLearning.encoderHiddenSize != null) {
      throw new IllegalArgumentException(
          "prefix_projection and encoder_hidden_size are prefix tuning's; method prompt does not"
              + " take them");
    }
    return new dev.tuneforge.llm.adapter.prompt.PromptTuningSettings(
        promptLearning.numVirtualTokens,
        promptLearning.promptTuningInit == null ? "RANDOM" : promptLearning.promptTuningInit,
        promptLearning.promptTuningInitText,
        model);
  }

  /**
   * AdaLoRA's settings: the adalora block, with lora_alpha, lora_dropout and target_modules from
   * the lora block (PEFT's AdaLoraConfig is a LoraConfig: alpha 8, dropout 0 and q_proj, v_proj by
   * default); LoRA options AdaLoRA does not use are refused by name ({@code given}: the lora block
   * as written, null when absent).
   */
  dev.tuneforge.llm.adapter.adalora.AdaLoraSettings adaLoraSettings(JsonObject given) {
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
    return new dev.tuneforge.llm.adapter.adalora.AdaLoraSettings(
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
            ? dev.tuneforge.llm.adapter.adalora.AdaLoraSettings.DEFAULT_TARGETS
            : lora.targetModules.contains("all-linear")
                ? LoraSettings.ALL_LINEAR
                : lora.targetModules,
        java.util.Map.of());
  }

  /** The lora block as the spec file gave it, for AdaLoRA's defaults; null when absent. */
  transient JsonObject loraGiven;

  /** Prefix tuning's settings, PEFT's names. */
  dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings prefixTuningSettings() {
    if (promptLearning.promptTuningInit != null || promptLearning.promptTuningInitText != null) {
      throw new IllegalArgumentException(
          "prompt_tuning_init and prompt_tuning_init_text are prompt tuning's; method prefix does"
              + " not take them");
    }
    return new dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings(
        promptLearning.numVirtualTokens,
        Boolean.TRUE.equals(promptLearning.prefixProjection),
        promptLearning.encoderHiddenSize == null ? 0 : promptLearning.encoderHiddenSize);
  }

  /**
   * A fresh adapter: LoRA for lora and qlora, IA3 for ia3, prompt tuning for prompt (its TEXT
   * initialisation encoded by {@code tokenizer}), prefix tuning for prefix, null for full
   * fine-tuning.
   */
  dev.tuneforge.llm.adapter.Adapter newAdapter(dev.tuneforge.llm.tokenizer.Tokenizer tokenizer) {
    return switch (method) {
      case "full" -> null;
      case "ia3" -> dev.tuneforge.llm.adapter.ia3.Ia3Adapter.create(ia3Settings());
      case "prompt" -> {
        var settings = promptTuningSettings();
        yield dev.tuneforge.llm.adapter.prompt.PromptTuningAdapter.create(
            settings,
            settings.init().equals("TEXT") ? tokenizer.encode(settings.initText()) : null,
            seed);
      }
      case "adalora" ->
          dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter.create(adaLoraSettings(loraGiven), seed);
      case "prefix" ->
          dev.tuneforge.llm.adapter.prefix.PrefixTuningAdapter.create(prefixTuningSettings(), seed);
      default -> dev.tuneforge.llm.adapter.LoraAdapter.create(loraSettings(), seed);
    };
  }

  /**
   * The frozen base's projections: NF4 for qlora, float16 for lora with torch_dtype float16, dense
   * otherwise.
   */
  dev.tuneforge.llm.model.Projections baseProjections() {
    if (method.equals("qlora")) {
      return dev.tuneforge.llm.adapter.Nf4Linear.projections(
          64,
          bnb4bitUseDoubleQuant,
          dev.tuneforge.llm.engine.HalfPrecision.computeType(
              "bnb_4bit_compute_dtype", bnb4bitComputeDtype, device));
    }
    if (method.equals("lora")
        && dev.tuneforge.llm.engine.HalfPrecision.storageType("torch_dtype", torchDtype)
            == ai.djl.ndarray.types.DataType.FLOAT16) {
      return dev.tuneforge.llm.model.HalfLinear.projections();
    }
    return dev.tuneforge.llm.model.Projections.DENSE;
  }

  /** The base's projections, wrapped by {@code adapter} when there is one. */
  dev.tuneforge.llm.model.Projections projections(dev.tuneforge.llm.adapter.Adapter adapter) {
    return adapter == null ? baseProjections() : adapter.projections(baseProjections());
  }

  /** Where the run computes, in float32 (fp16 runs ask for their own). */
  dev.tuneforge.llm.engine.Compute compute() {
    return new dev.tuneforge.llm.engine.Compute(device, "float32");
  }
}
