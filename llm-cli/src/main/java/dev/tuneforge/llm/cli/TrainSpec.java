package dev.tuneforge.llm.cli;

import ai.djl.ndarray.types.DataType;
import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.ia3.Ia3Settings;
import dev.tuneforge.llm.engine.HalfPrecision;
import dev.tuneforge.llm.recipe.EvalPolicy;
import dev.tuneforge.llm.recipe.OptimizerSettings;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.run.DataSettings;
import dev.tuneforge.llm.run.MethodSettings;
import dev.tuneforge.llm.run.Parameterization;
import dev.tuneforge.llm.run.SaveSettings;
import dev.tuneforge.llm.run.TrainingJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A local training job in one JSON file, with TRL SFTConfig and PEFT LoraConfig names, e.g.
 *
 * <pre>{@code {"model": "/models/tiny", "train_file": "train.jsonl", "method": "qlora",
 *  "output_dir": "out", "learning_rate": 2e-4, "max_steps": 200, "lora": {"r": 16}}}</pre>
 *
 * Unset values take the TRL/PEFT defaults listed here; unknown keys are refused by name. It is one
 * reader of {@link TrainingJob}: {@link #read} gives the job {@link dev.tuneforge.llm.run.Runs#run}
 * takes.
 */
public final class TrainSpec {
  String model;
  String trainFile;
  String evalFile;
  String outputDir = "tuneforge-output";

  /** full, lora, qlora, ia3, prompt (prompt tuning), prefix (prefix tuning) or adalora. */
  String method = "lora";

  /**
   * What trains, as TRL's trainers: sft on prompt/completion, conversational or text records; dpo
   * or reward_model on prompt/chosen/rejected records; ppo or online_dpo on prompt-only records,
   * with their {@code ppo} or {@code online_dpo} block.
   */
  String trainer = "sft";

  /** PPO (TRL PPOConfig names), for trainer ppo; its reward_model is required. */
  RlBlocks.Ppo ppo = new RlBlocks.Ppo();

  /** Online DPO (TRL OnlineDPOConfig names), for trainer online_dpo. */
  RlBlocks.OnlineDpo onlineDpo = new RlBlocks.OnlineDpo();

  /** DPO (TRL DPOConfig): the KL strength; default 0.1. */
  Double beta;

  /** DPO: sigmoid, ipo or hinge; default sigmoid. */
  String lossType;

  /** DPO: conservative DPO's label smoothing; default 0. */
  Double labelSmoothing;

  /** Reward model (TRL RewardConfig): pull the mean reward towards 0; default off. */
  Double centerRewardsCoefficient;

  String chatTemplate;

  /** cpu, cuda, cuda:N or auto (see {@link dev.tuneforge.llm.engine.Compute}). */
  String device = "cpu";

  /** Default 2e-4, and TRL DPOConfig's 1e-6 for dpo. */
  Double learningRate;

  long maxSteps = -1;
  double numTrainEpochs = 3;
  int perDeviceTrainBatchSize = 8;
  int gradientAccumulationSteps = 1;
  double maxGradNorm = -1;
  String lrSchedulerType = "linear";
  double warmupRatio = 0.03;
  int warmupSteps = 0;
  double weightDecay = 0.0;
  double adamBeta1 = 0.9;
  double adamBeta2 = 0.999;
  double adamEpsilon = 1e-8;
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

  /** QLoRA: values per NF4 block, each with its own scale (bitsandbytes' quantize_4bit). */
  @com.google.gson.annotations.SerializedName("bnb_4bit_blocksize")
  int bnb4bitBlocksize = 64;

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
  AdapterBlocks.Lora lora = new AdapterBlocks.Lora();
  AdapterBlocks.Ia3 ia3 = new AdapterBlocks.Ia3();
  AdapterBlocks.PromptLearning promptLearning = new AdapterBlocks.PromptLearning();
  AdapterBlocks.AdaLora adalora = new AdapterBlocks.AdaLora();

  private static final Gson GSON =
      new GsonBuilder()
          .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
          .create();

  /**
   * Reads a spec file into the job it describes; unknown keys, values out of range and combinations
   * no method runs are refused by name, with the file.
   */
  public static TrainingJob read(Path file) {
    TrainSpec spec = parse(file);
    try {
      return spec.job();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** Reads and validates a spec file; unknown keys are refused by name. */
  static TrainSpec parse(Path file) {
    try {
      JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
      refuseUnknown(json, TrainSpec.class, file, "");
      String targetRegex = null;
      if (json.has("ia3")) {
        refuseUnknown(json.getAsJsonObject("ia3"), AdapterBlocks.Ia3.class, file, "ia3.");
      }
      if (json.has("adalora")) {
        refuseUnknown(
            json.getAsJsonObject("adalora"), AdapterBlocks.AdaLora.class, file, "adalora.");
      }
      if (json.has("prompt_learning")) {
        refuseUnknown(
            json.getAsJsonObject("prompt_learning"),
            AdapterBlocks.PromptLearning.class,
            file,
            "prompt_learning.");
      }
      for (String block : new String[] {"ppo", "online_dpo"}) {
        if (json.has(block)) {
          refuseUnknown(
              json.getAsJsonObject(block),
              block.equals("ppo") ? RlBlocks.Ppo.class : RlBlocks.OnlineDpo.class,
              file,
              block + ".");
          String trainer = json.has("trainer") ? json.get("trainer").getAsString() : "sft";
          if (!trainer.equals(block)) {
            throw new IllegalArgumentException(
                file + ": the " + block + " block is for trainer " + block + ", not " + trainer);
          }
        }
      }
      if (json.has("lora")) {
        refuseUnknown(json.getAsJsonObject("lora"), AdapterBlocks.Lora.class, file, "lora.");
        targetRegex = AdapterBlocks.targetModulesAsList(json.getAsJsonObject("lora"));
      }
      TrainSpec spec = GSON.fromJson(json, TrainSpec.class);
      spec.lora.targetRegex = targetRegex;
      spec.lora.given = json.has("lora") ? json.getAsJsonObject("lora") : null;
      spec.validate(file);
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
    if (!Set.of("sft", "dpo", "reward_model", "ppo", "online_dpo").contains(trainer)) {
      throw new IllegalArgumentException(
          file
              + ": trainer \""
              + trainer
              + "\" is not one of sft, dpo, reward_model, ppo, online_dpo");
    }
    if (trainer.equals("ppo") && ppo.rewardModel == null) {
      throw new IllegalArgumentException(
          file + ": ppo.reward_model is required: the directory of the reward model PPO maximises");
    }
    if (!trainer.equals("dpo") && (beta != null || lossType != null || labelSmoothing != null)) {
      throw new IllegalArgumentException(
          file + ": beta, loss_type and label_smoothing are DPO's; set trainer dpo or remove them");
    }
    if (!trainer.equals("reward_model") && centerRewardsCoefficient != null) {
      throw new IllegalArgumentException(
          file
              + ": center_rewards_coefficient is the reward model's; set trainer reward_model or"
              + " remove it");
    }
    if (!Set.of("full", "lora", "qlora", "ia3", "prompt", "prefix", "adalora").contains(method)) {
      throw new IllegalArgumentException(
          file
              + ": method \""
              + method
              + "\" is not one of full, lora, qlora, ia3, prompt, prefix, adalora");
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

  /** The job this spec describes: its trainer with its method's parameterisation. */
  TrainingJob job() {
    double clip = maxGradNorm > 0 ? maxGradNorm : method.equals("qlora") ? 0.3 : 1.0;
    SftSettings schedule =
        new SftSettings(
            learningRate != null
                ? learningRate
                : trainer.equals("dpo") ? 1e-6 : trainer.equals("online_dpo") ? 5e-7 : 2e-4,
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
    MethodSettings.Sft sft =
        new MethodSettings.Sft(
            neftuneNoiseAlpha,
            gradientCheckpointing,
            fp16,
            new EvalPolicy(
                loadBestModelAtEnd,
                metricForBestModel,
                greaterIsBetter,
                earlyStoppingPatience,
                earlyStoppingThreshold));
    DataSettings data =
        new DataSettings(
            maxSeqLength,
            maxPromptLength,
            packing,
            completionOnlyLoss,
            assistantOnlyLoss,
            groupByLength);
    if (!trainer.equals("sft")) {
      MethodSettings.sftOnlyGiven(sft, data)
          .ifPresent(
              name -> {
                throw new IllegalArgumentException(
                    name
                        + " is supervised fine-tuning's; trainer "
                        + trainer
                        + " does not use it (remove it)");
              });
    }
    return new TrainingJob(
        Path.of(model),
        Path.of(trainFile),
        evalFile == null ? null : Path.of(evalFile),
        Path.of(outputDir),
        device,
        seed,
        chatTemplate,
        parameterization(),
        schedule,
        new OptimizerSettings(adamBeta1, adamBeta2, adamEpsilon),
        data,
        new SaveSettings(saveSteps, saveTotalLimit),
        switch (trainer) {
          case "dpo" ->
              new MethodSettings.Dpo(
                  new dev.tuneforge.llm.preference.DpoTrainer.Settings(
                      beta == null ? 0.1 : beta,
                      dev.tuneforge.llm.preference.PreferenceLosses.DpoLoss.parse(
                          lossType == null ? "sigmoid" : lossType),
                      labelSmoothing == null ? 0 : labelSmoothing));
          case "reward_model" ->
              new MethodSettings.RewardModel(
                  centerRewardsCoefficient == null ? 0 : centerRewardsCoefficient);
          case "ppo" ->
              new MethodSettings.Ppo(
                  ppo.settings(
                      schedule.learningRate(),
                      perDeviceTrainBatchSize,
                      maxSteps,
                      numTrainEpochs,
                      RlBlocks.records(Path.of(trainFile)),
                      clip,
                      loggingSteps,
                      seed),
                  RlBlocks.localReward(ppo.rewardModel, "ppo.reward_model"));
          case "online_dpo" -> onlineDpo.settings();
          default -> sft;
        });
  }

  /** Full fine-tuning, or the method's adapter over the base its storage keys ask for. */
  private Parameterization parameterization() {
    DataType storage = HalfPrecision.storageType("torch_dtype", torchDtype);
    if (storage != DataType.FLOAT32 && !method.equals("lora")) {
      throw new IllegalArgumentException(
          "torch_dtype "
              + torchDtype
              + " keeps a LoRA base in half precision"
              + (method.equals("full") ? "" : "; method " + method)
              + (method.equals("full")
                  ? ": full fine-tuning trains every weight in float32 (use fp16 for mixed"
                      + " precision)"
                  : " keeps its base in float32 (qlora: in NF4)"));
    }
    Parameterization.BaseWeights dense = new Parameterization.BaseWeights.Dense(storage);
    return switch (method) {
      case "full" -> new Parameterization.Full();
      case "qlora" ->
          new Parameterization.Adapted(
              new Parameterization.BaseWeights.Nf4(
                  bnb4bitBlocksize,
                  bnb4bitUseDoubleQuant,
                  HalfPrecision.computeType("bnb_4bit_compute_dtype", bnb4bitComputeDtype, device)),
              AdapterBlocks.named("lora", () -> AdapterBlocks.lora(lora)));
      case "ia3" ->
          new Parameterization.Adapted(
              dense,
              AdapterBlocks.named(
                  "ia3",
                  () ->
                      Ia3Settings.forModel(
                          Path.of(model), ia3.targetModules, ia3.feedforwardModules)));
      case "prompt" ->
          new Parameterization.Adapted(
              dense,
              AdapterBlocks.named(
                  "prompt_learning", () -> AdapterBlocks.promptTuning(promptLearning, model)));
      case "prefix" ->
          new Parameterization.Adapted(
              dense,
              AdapterBlocks.named(
                  "prompt_learning", () -> AdapterBlocks.prefixTuning(promptLearning)));
      case "adalora" ->
          new Parameterization.Adapted(
              dense, AdapterBlocks.named("adalora", () -> AdapterBlocks.adaLora(adalora, lora)));
      default ->
          new Parameterization.Adapted(
              dense, AdapterBlocks.named("lora", () -> AdapterBlocks.lora(lora)));
    };
  }
}
