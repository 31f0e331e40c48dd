package dev.tuneforge.trainer.job;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import dev.tuneforge.llm.cli.RlTraining;
import dev.tuneforge.llm.preference.DpoTrainer;
import dev.tuneforge.llm.preference.PreferenceLosses;
import dev.tuneforge.llm.rl.PpoLosses;
import dev.tuneforge.llm.rl.PpoSettings;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.LoraConfig;
import java.util.Set;

/** How a job spec maps onto llm-core's training settings (TRL and PEFT names). */
final class JobSpecs {
  private JobSpecs() {}

  /** Hyper-parameters llm-core's local training spec takes. */
  static final Set<String> TRAIN_SPEC_KEYS =
      Set.of(
          "learning_rate",
          "max_steps",
          "num_train_epochs",
          "per_device_train_batch_size",
          "gradient_accumulation_steps",
          "max_grad_norm",
          "lr_scheduler_type",
          "warmup_ratio",
          "warmup_steps",
          "weight_decay",
          "logging_steps",
          "eval_steps",
          "save_steps",
          "save_total_limit",
          "max_seq_length",
          "packing",
          "gradient_checkpointing",
          "fp16",
          "bf16",
          "group_by_length",
          "neftune_noise_alpha",
          "completion_only_loss",
          "assistant_only_loss",
          "load_best_model_at_end",
          "metric_for_best_model",
          "greater_is_better",
          "early_stopping_patience",
          "early_stopping_threshold");

  static String method(JobSpec spec) {
    return switch (spec.getMethod()) {
      case SFT, LORA -> "lora";
      case QLORA -> "qlora";
      case FULL -> "full";
      case IA3 -> "ia3";
      case PROMPT -> "prompt";
      case PREFIX -> "prefix";
      case ADALORA -> "adalora";
      case DPO, REWARD_MODEL, PPO, BEST_OF_N ->
          !spec.hasAdapter()
              ? "full"
              : switch (spec.getAdapter().getPeftType()) {
                case IA3 -> "ia3";
                case PROMPT_TUNING -> "prompt";
                case PREFIX_TUNING -> "prefix";
                default -> spec.getAdapter().getQuantization().getLoadIn4Bit() ? "qlora" : "lora";
              };
      default ->
          throw new IllegalArgumentException(
              "method "
                  + spec.getMethod()
                  + " is not run by the trainer service yet (SFT, FULL, LORA, QLORA, IA3, PROMPT, PREFIX, ADALORA,"
                  + " DPO, REWARD_MODEL, PPO and BEST_OF_N are)");
    };
  }

  /**
   * The run's settings from the job, as {@code ./tuneforge train} reads them (TrainSpec JSON): the
   * model, method, output, seed and device, the hyper-parameters TrainSpec knows, and the adapter's
   * settings. The data files and the chat template are the caller's.
   */
  static JsonObject trainSpecJson(
      JobSpec spec, String method, String model, String outputDir, String defaultDevice) {
    JsonObject json = new JsonObject();
    json.addProperty("model", model);
    json.addProperty("method", method);
    json.addProperty("output_dir", outputDir);
    json.addProperty("seed", spec.getSeed());
    json.addProperty(
        "device", spec.getCompute().hasDevice() ? spec.getCompute().getDevice() : defaultDevice);
    JsonObject hyper;
    try {
      hyper =
          JsonParser.parseString(
                  JsonFormat.printer().preservingProtoFieldNames().print(spec.getHyperparameters()))
              .getAsJsonObject();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print the hyper-parameters", e);
    }
    hyper.entrySet().stream()
        .filter(e -> TRAIN_SPEC_KEYS.contains(e.getKey()))
        .forEach(e -> json.add(e.getKey(), e.getValue()));
    if (spec.hasAdapter()
        && spec.getAdapter().hasLora()
        && !method.equals("ia3")
        && !method.equals("prompt")
        && !method.equals("prefix")
        && !method.equals("adalora")) {
      json.add("lora", loraJson(spec.getAdapter().getLora()));
    }
    if (spec.getDpo().hasMaxPromptLength()) {
      json.addProperty("max_prompt_length", spec.getDpo().getMaxPromptLength());
    }
    if (method.equals("ia3") && spec.hasAdapter() && spec.getAdapter().hasIa3()) {
      json.add("ia3", ia3Json(spec.getAdapter().getIa3()));
    }
    if (method.equals("adalora")) {
      adaLoraJson(spec.getAdapter(), json);
    }
    if ((method.equals("prompt") || method.equals("prefix"))
        && spec.getAdapter().hasPromptLearning()) {
      json.add("prompt_learning", promptLearningJson(spec.getAdapter().getPromptLearning()));
    }
    if (method.equals("qlora") && spec.getAdapter().getQuantization().getBnb4BitUseDoubleQuant()) {
      json.addProperty("bnb_4bit_use_double_quant", true);
    }
    if (method.equals("qlora") && spec.getAdapter().getQuantization().hasBnb4BitComputeDtype()) {
      json.addProperty(
          "bnb_4bit_compute_dtype", spec.getAdapter().getQuantization().getBnb4BitComputeDtype());
    }
    if (method.equals("lora") && spec.getCompute().hasDtype()) {
      json.addProperty("torch_dtype", spec.getCompute().getDtype()); // the frozen base's dtype
    }
    return json;
  }

  static DpoTrainer.Settings dpoSettings(JobSpec spec) {
    var dpo = spec.getDpo();
    return new DpoTrainer.Settings(
        dpo.hasBeta() ? dpo.getBeta() : 0.1,
        PreferenceLosses.DpoLoss.parse(dpo.hasLossType() ? dpo.getLossType() : "sigmoid"),
        dpo.hasLabelSmoothing() ? dpo.getLabelSmoothing() : 0);
  }

  /** The reward model a PPO or Best-of-N job is scored by. */
  static String rewardModel(JobSpec spec) {
    String name =
        spec.getMethod() == JobSpec.Method.PPO
            ? spec.getPpo().getRewardModel()
            : spec.getBestOfN().getRewardModel();
    if (name.isEmpty()) {
      String field =
          spec.getMethod() == JobSpec.Method.PPO ? "ppo.reward_model" : "best_of_n.reward_model";
      throw new IllegalArgumentException(
          field + " is required: the name of a reward model served by reward-service");
    }
    return name;
  }

  /**
   * TRL's PPOConfig from the job: a step rolls out per_device_train_batch_size ×
   * gradient_accumulation_steps prompts and updates on num_mini_batches mini-batches of them;
   * max_steps, or num_train_epochs passes over the prompts, sets the steps.
   */
  static PpoSettings ppoSettings(JobSpec spec, int prompts) {
    var h = spec.getHyperparameters();
    var ppo = spec.getPpo();
    int batch = h.getPerDeviceTrainBatchSize() * Math.max(1, h.getGradientAccumulationSteps());
    int miniBatches = Math.max(1, ppo.getNumMiniBatches());
    if (batch % miniBatches != 0) {
      throw new IllegalArgumentException(
          "ppo.num_mini_batches must divide the rollout batch (per_device_train_batch_size x"
              + " gradient_accumulation_steps = "
              + batch
              + ") but was "
              + miniBatches);
    }
    long steps =
        h.getMaxSteps() > 0
            ? h.getMaxSteps()
            : Math.max(1, (long) Math.floor(h.getNumTrainEpochs() * prompts / batch));
    return new PpoSettings(
        h.getLearningRate(),
        batch,
        batch / miniBatches,
        ppo.getNumPpoEpochs(),
        steps,
        ppo.getResponseLength(),
        ppo.getTemperature(),
        ppo.getKlCoef(),
        PpoLosses.KlEstimator.valueOf(ppo.getKlEstimator().toUpperCase(java.util.Locale.ROOT)),
        ppo.hasTargetKl() ? ppo.getTargetKl() : null,
        10000,
        ppo.getGamma(),
        ppo.getLam(),
        ppo.getCliprange(),
        ppo.getCliprangeValue(),
        ppo.getVfCoef(),
        ppo.getEntropyCoef(),
        ppo.hasMissingEosPenalty() ? ppo.getMissingEosPenalty() : 0,
        ppo.getWhitenRewards(),
        h.getMaxGradNorm() > 0 ? h.getMaxGradNorm() : 1.0,
        Math.max(1, h.getLoggingSteps()),
        spec.getSeed());
  }

  static RlTraining.BestOfNSettings bestOfNSettings(JobSpec spec) {
    var b = spec.getBestOfN();
    return new RlTraining.BestOfNSettings(
        b.getN(),
        b.getTemperature(),
        b.getTopK(),
        b.getTopP(),
        b.getMaxNewTokens(),
        spec.getSeed());
  }

  /** PEFT LoraConfig names for the fields the job set. */
  /**
   * The TrainSpec's adalora block (PEFT AdaLoraConfig names) and the lora block's lora_alpha,
   * lora_dropout and target_modules; total_step unset takes the run's steps.
   */
  static void adaLoraJson(dev.tuneforge.proto.v1.AdapterConfig adapter, JsonObject json) {
    var ada = adapter.getAdalora();
    JsonObject block = new JsonObject();
    if (ada.hasInitR()) block.addProperty("init_r", ada.getInitR());
    if (ada.hasTargetR()) block.addProperty("target_r", ada.getTargetR());
    if (ada.hasTinit()) block.addProperty("tinit", ada.getTinit());
    if (ada.hasTfinal()) block.addProperty("tfinal", ada.getTfinal());
    if (ada.hasDeltaT()) block.addProperty("deltaT", ada.getDeltaT());
    if (ada.hasBeta1()) block.addProperty("beta1", ada.getBeta1());
    if (ada.hasBeta2()) block.addProperty("beta2", ada.getBeta2());
    if (ada.hasOrthRegWeight()) block.addProperty("orth_reg_weight", ada.getOrthRegWeight());
    if (ada.hasTotalStep()) block.addProperty("total_step", ada.getTotalStep());
    json.add("adalora", block);
    var lora = adapter.getLora();
    JsonObject loraBlock = new JsonObject();
    if (lora.hasLoraAlpha()) loraBlock.addProperty("lora_alpha", lora.getLoraAlpha());
    if (lora.hasLoraDropout()) loraBlock.addProperty("lora_dropout", lora.getLoraDropout());
    if (lora.getTargetModulesCount() > 0) {
      JsonArray modules = new JsonArray();
      lora.getTargetModulesList().forEach(modules::add);
      loraBlock.add("target_modules", modules);
    }
    json.add("lora", loraBlock);
  }

  /**
   * The TrainSpec's prompt_learning block: PEFT PromptTuningConfig and PrefixTuningConfig names;
   * unset, their defaults.
   */
  static JsonObject promptLearningJson(dev.tuneforge.proto.v1.PromptLearningConfig prompt) {
    JsonObject json = new JsonObject();
    if (prompt.hasNumVirtualTokens()) {
      json.addProperty("num_virtual_tokens", prompt.getNumVirtualTokens());
    }
    if (prompt.hasPromptTuningInit()) {
      json.addProperty("prompt_tuning_init", prompt.getPromptTuningInit());
    }
    if (prompt.hasPromptTuningInitText()) {
      json.addProperty("prompt_tuning_init_text", prompt.getPromptTuningInitText());
    }
    if (prompt.hasPrefixProjection()) {
      json.addProperty("prefix_projection", prompt.getPrefixProjection());
    }
    if (prompt.hasEncoderHiddenSize()) {
      json.addProperty("encoder_hidden_size", prompt.getEncoderHiddenSize());
    }
    return json;
  }

  /** The TrainSpec's ia3 block: PEFT IA3Config names; unset lists take PEFT's defaults. */
  static JsonObject ia3Json(dev.tuneforge.proto.v1.Ia3Config ia3) {
    JsonObject json = new JsonObject();
    if (ia3.getTargetModulesCount() > 0) {
      com.google.gson.JsonArray modules = new com.google.gson.JsonArray();
      ia3.getTargetModulesList().forEach(modules::add);
      json.add("target_modules", modules);
    }
    if (ia3.getFeedforwardModulesCount() > 0) {
      com.google.gson.JsonArray modules = new com.google.gson.JsonArray();
      ia3.getFeedforwardModulesList().forEach(modules::add);
      json.add("feedforward_modules", modules);
    }
    return json;
  }

  static JsonObject loraJson(LoraConfig lora) {
    JsonObject loraJson = new JsonObject();
    if (lora.hasR()) {
      loraJson.addProperty("r", lora.getR());
    }
    if (lora.hasLoraAlpha()) {
      loraJson.addProperty("lora_alpha", lora.getLoraAlpha());
    }
    if (lora.hasLoraDropout()) {
      loraJson.addProperty("lora_dropout", lora.getLoraDropout());
    }
    if (lora.getTargetModulesCount() > 0 && !lora.getTargetModulesList().contains("all-linear")) {
      JsonArray modules = new JsonArray();
      lora.getTargetModulesList().forEach(modules::add);
      loraJson.add("target_modules", modules);
    }
    if (lora.hasUseRslora()) {
      loraJson.addProperty("use_rslora", lora.getUseRslora());
    }
    if (lora.hasBias()) {
      loraJson.addProperty("bias", lora.getBias());
    }
    if (lora.getModulesToSaveCount() > 0) {
      JsonArray modules = new JsonArray();
      lora.getModulesToSaveList().forEach(modules::add);
      loraJson.add("modules_to_save", modules);
    }
    return loraJson;
  }
}
