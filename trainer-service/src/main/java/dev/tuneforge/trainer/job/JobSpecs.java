package dev.tuneforge.trainer.job;

import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.adapter.AdapterSettings;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.adalora.AdaLoraSettings;
import dev.tuneforge.llm.adapter.ia3.Ia3Settings;
import dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings;
import dev.tuneforge.llm.adapter.prompt.PromptTuningSettings;
import dev.tuneforge.llm.engine.HalfPrecision;
import dev.tuneforge.llm.preference.DpoTrainer;
import dev.tuneforge.llm.preference.OnlineDpoTrainer;
import dev.tuneforge.llm.preference.PreferenceLosses;
import dev.tuneforge.llm.recipe.EvalPolicy;
import dev.tuneforge.llm.recipe.OptimizerSettings;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.rl.PpoLosses;
import dev.tuneforge.llm.rl.PpoSettings;
import dev.tuneforge.llm.rl.TextReward;
import dev.tuneforge.llm.run.DataSettings;
import dev.tuneforge.llm.run.MethodSettings;
import dev.tuneforge.llm.run.Parameterization;
import dev.tuneforge.llm.run.SaveSettings;
import dev.tuneforge.llm.run.TrainingJob;
import dev.tuneforge.proto.JobSpecDefaults;
import dev.tuneforge.proto.v1.AdapterConfig;
import dev.tuneforge.proto.v1.Hyperparameters;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.LoraConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A job spec as llm-core's {@link TrainingJob}: every field the trainer takes, typed, with TRL and
 * PEFT names on both sides. The spec arrives resolved ({@link JobSpecDefaults#resolve}) and checked
 * at create ({@link dev.tuneforge.proto.JobSpecRules}); what no method runs is refused here by
 * name, never dropped.
 */
final class JobSpecs {
  private JobSpecs() {}

  /**
   * Where a job's inputs are on this replica.
   *
   * @param model the base model's directory
   * @param trainFile the prepared train split
   * @param evalFile the prepared validation split; null when it is empty
   * @param outputDir checkpoints and the result
   * @param chatTemplate a built-in template named by the dataset's manifest; null: the model's
   * @param defaultDevice the replica's device, unless the job names one
   * @param trainExamples the train split's records (PPO's steps from num_train_epochs)
   * @param judgeModel an online DPO job's judge model, fetched; null for none
   */
  record Inputs(
      Path model,
      Path trainFile,
      Path evalFile,
      Path outputDir,
      String chatTemplate,
      String defaultDevice,
      long trainExamples,
      Path judgeModel) {}

  /** A short name of the job's method and parameterisation, for logs and metrics. */
  static String method(JobSpec spec) {
    if (spec.getMethod() == JobSpec.Method.SELF_INSTRUCT) {
      return "self_instruct";
    }
    if (spec.getMethod() == JobSpec.Method.CONSTITUTIONAL_AI) {
      return "constitutional_ai";
    }
    java.util.Optional<AdapterConfig.PeftType> peft = JobSpecDefaults.peftType(spec);
    String training =
        switch (spec.getMethod()) {
          case SFT, LORA, QLORA, FULL, IA3, PROMPT, PREFIX, ADALORA -> "";
          case DPO -> "dpo ";
          case REWARD_MODEL -> "reward_model ";
          case PPO -> "ppo ";
          case ONLINE_DPO -> "online_dpo ";
          case BEST_OF_N -> "best_of_n ";
          default ->
              throw new IllegalArgumentException(
                  "method "
                      + spec.getMethod()
                      + " is not run by the trainer service (SFT, FULL, LORA, QLORA, IA3, PROMPT,"
                      + " PREFIX, ADALORA, DPO, ONLINE_DPO, REWARD_MODEL, PPO and BEST_OF_N"
                      + " are)");
        };
    String adapter =
        peft.isEmpty()
            ? "full"
            : switch (peft.get()) {
              case IA3 -> "ia3";
              case PROMPT_TUNING -> "prompt";
              case PREFIX_TUNING -> "prefix";
              case ADALORA -> "adalora";
              default -> JobSpecDefaults.quantized(spec) ? "qlora" : "lora";
            };
    return training + adapter;
  }

  /**
   * The run of a resolved job spec.
   *
   * @param rewards the reward a PPO, online DPO or Best-of-N job is scored by, by reward model name
   */
  static TrainingJob toTrainingJob(JobSpec spec, Inputs in, Function<String, TextReward> rewards) {
    Hyperparameters h = spec.getHyperparameters();
    if (h.getBf16()) {
      throw HalfPrecision.bfloat16Refused("hyperparameters.bf16");
    }
    method(spec); // refuses a method the trainer does not run, by name
    DataSettings data =
        new DataSettings(
            h.getMaxSeqLength(),
            spec.getDpo().hasMaxPromptLength() ? spec.getDpo().getMaxPromptLength() : -1,
            h.getPacking(),
            h.getCompletionOnlyLoss(),
            h.getAssistantOnlyLoss(),
            h.getGroupByLength());
    if (spec.getMethod() == JobSpec.Method.DPO
        || spec.getMethod() == JobSpec.Method.REWARD_MODEL
        || spec.getMethod() == JobSpec.Method.PPO
        || spec.getMethod() == JobSpec.Method.ONLINE_DPO) {
      MethodSettings.sftOnlyGiven(sft(spec), data)
          .ifPresent(
              name -> {
                throw new IllegalArgumentException(
                    "hyperparameters."
                        + name
                        + " is supervised fine-tuning's; "
                        + spec.getMethod()
                        + " does not use it");
              });
    }
    return new TrainingJob(
        in.model(),
        in.trainFile(),
        in.evalFile(),
        in.outputDir(),
        spec.getCompute().hasDevice() ? spec.getCompute().getDevice() : in.defaultDevice(),
        spec.getSeed(),
        in.chatTemplate(),
        parameterization(spec, in.model()),
        trainer(spec),
        new OptimizerSettings(h.getAdamBeta1(), h.getAdamBeta2(), h.getAdamEpsilon()),
        data,
        new SaveSettings(h.getSaveSteps(), h.getSaveTotalLimit()),
        methodSettings(spec, in, rewards));
  }

  /** transformers' TrainingArguments schedule. */
  private static SftSettings trainer(JobSpec spec) {
    Hyperparameters h = spec.getHyperparameters();
    return new SftSettings(
        h.getLearningRate(),
        h.getPerDeviceTrainBatchSize(),
        h.getGradientAccumulationSteps(),
        h.getMaxSteps(),
        h.getNumTrainEpochs(),
        h.getMaxGradNorm() > 0 ? h.getMaxGradNorm() : JobSpecDefaults.quantized(spec) ? 0.3 : 1.0,
        h.getLrSchedulerType(),
        h.getWarmupRatio(),
        h.getWarmupSteps(),
        h.getWeightDecay(),
        h.getLoggingSteps(),
        h.getEvalSteps(),
        spec.getSeed());
  }

  private static MethodSettings methodSettings(
      JobSpec spec, Inputs in, Function<String, TextReward> rewards) {
    return switch (spec.getMethod()) {
      case DPO -> new MethodSettings.Dpo(dpoSettings(spec));
      case REWARD_MODEL ->
          new MethodSettings.RewardModel(spec.getRewardModel().getCenterRewardsCoefficient());
      case PPO ->
          new MethodSettings.Ppo(
              ppoSettings(spec, in.trainExamples()), rewards.apply(rewardModel(spec)));
      case SELF_INSTRUCT -> selfInstruct(spec.getSelfInstruct(), spec.getSeed());
      case CONSTITUTIONAL_AI ->
          constitutionalAi(
              spec.getConstitutionalAi(), spec.getHyperparameters().getPerDeviceTrainBatchSize());
      case ONLINE_DPO ->
          new MethodSettings.OnlineDpo(
              onlineDpoSettings(spec), onlineDpoJudging(spec, in, rewards));
      case BEST_OF_N ->
          new MethodSettings.BestOfN(
              bestOfNSettings(spec), rewards.apply(rewardModel(spec)), sft(spec));
      default -> sft(spec);
    };
  }

  private static MethodSettings.Sft sft(JobSpec spec) {
    Hyperparameters h = spec.getHyperparameters();
    return new MethodSettings.Sft(
        h.getNeftuneNoiseAlpha(),
        h.getGradientCheckpointing(),
        h.getFp16(),
        new EvalPolicy(
            h.getLoadBestModelAtEnd(),
            h.getMetricForBestModel(),
            h.getGreaterIsBetter(),
            h.getEarlyStoppingPatience(),
            h.getEarlyStoppingThreshold()));
  }

  /**
   * Full fine-tuning, or the job's adapter over its base: NF4 when the job quantizes (QLoRA), the
   * compute dtype's storage (float32, or float16 for a LoRA base) otherwise.
   */
  private static Parameterization parameterization(JobSpec spec, Path model) {
    java.util.Optional<AdapterConfig.PeftType> peft = JobSpecDefaults.peftType(spec);
    DataType storage =
        HalfPrecision.storageType(
            "compute.dtype",
            spec.getCompute().hasDtype() ? spec.getCompute().getDtype() : "float32");
    if (peft.isEmpty()) {
      if (storage != DataType.FLOAT32) {
        throw new IllegalArgumentException(
            "compute.dtype "
                + spec.getCompute().getDtype()
                + " keeps a frozen LoRA base in half precision, but full fine-tuning trains every"
                + " weight in float32; use hyperparameters.fp16 for mixed precision");
      }
      return new Parameterization.Full();
    }
    AdapterConfig adapter = spec.getAdapter();
    if (storage != DataType.FLOAT32 && peft.get() != AdapterConfig.PeftType.LORA) {
      throw new IllegalArgumentException(
          "compute.dtype "
              + spec.getCompute().getDtype()
              + " keeps a LoRA base in half precision; "
              + peft.get()
              + " keeps its base in float32");
    }
    Parameterization.BaseWeights base;
    if (JobSpecDefaults.quantized(spec)) {
      if (peft.get() != AdapterConfig.PeftType.LORA) {
        throw new IllegalArgumentException(
            "adapter.quantization.load_in_4bit takes a LoRA adapter (QLoRA), not " + peft.get());
      }
      var q = adapter.getQuantization();
      if (!q.getBnb4BitQuantType().equals("nf4")) {
        throw new IllegalArgumentException(
            "adapter.quantization.bnb_4bit_quant_type \""
                + q.getBnb4BitQuantType()
                + "\" is not supported; nf4");
      }
      base =
          new Parameterization.BaseWeights.Nf4(
              q.getBlocksize(),
              q.getBnb4BitUseDoubleQuant(),
              HalfPrecision.computeType(
                  "adapter.quantization.bnb_4bit_compute_dtype",
                  q.getBnb4BitComputeDtype(),
                  spec.getCompute().hasDevice() ? spec.getCompute().getDevice() : "cpu"));
    } else {
      base = new Parameterization.BaseWeights.Dense(storage);
    }
    return new Parameterization.Adapted(base, adapterSettings(peft.get(), adapter, model));
  }

  /** PEFT's config of the job's adapter, by the block of the job spec that holds it. */
  static AdapterSettings adapterSettings(
      AdapterConfig.PeftType peft, AdapterConfig adapter, Path model) {
    return switch (peft) {
      case IA3 ->
          Ia3Settings.forModel(
              model,
              listOrNull(adapter.getIa3().getTargetModulesList()),
              listOrNull(adapter.getIa3().getFeedforwardModulesList()));
      case PROMPT_TUNING -> {
        var p = adapter.getPromptLearning();
        yield new PromptTuningSettings(
            p.hasNumVirtualTokens()
                ? p.getNumVirtualTokens()
                : PromptTuningSettings.DEFAULT_VIRTUAL_TOKENS,
            p.hasPromptTuningInit() ? p.getPromptTuningInit() : "RANDOM",
            p.hasPromptTuningInitText() ? p.getPromptTuningInitText() : null,
            model.toString());
      }
      case PREFIX_TUNING -> {
        var p = adapter.getPromptLearning();
        yield new PrefixTuningSettings(
            p.hasNumVirtualTokens()
                ? p.getNumVirtualTokens()
                : PromptTuningSettings.DEFAULT_VIRTUAL_TOKENS,
            p.getPrefixProjection(),
            p.getEncoderHiddenSize());
      }
      case ADALORA -> {
        var a = adapter.getAdalora();
        LoraConfig lora = adapter.getLora();
        yield new AdaLoraSettings(
            a.getInitR(),
            a.getTargetR(),
            a.getTinit(),
            a.getTfinal(),
            a.getDeltaT(),
            a.getBeta1(),
            a.getBeta2(),
            a.getOrthRegWeight(),
            a.getTotalStep(),
            lora.getLoraAlpha(),
            lora.getLoraDropout(),
            targets(lora),
            Map.of());
      }
      default -> {
        LoraConfig lora = adapter.getLora();
        yield new LoraSettings(
            lora.getR(),
            lora.getLoraAlpha(),
            lora.getLoraDropout(),
            targets(lora),
            lora.getUseRslora(),
            lora.getBias(),
            false,
            lora.getModulesToSaveList(),
            null,
            false,
            lora.getInitLoraWeights());
      }
    };
  }

  private static List<String> targets(LoraConfig lora) {
    return lora.getTargetModulesList().contains("all-linear")
        ? LoraSettings.ALL_LINEAR
        : lora.getTargetModulesList();
  }

  private static List<String> listOrNull(List<String> list) {
    return list.isEmpty() ? null : List.copyOf(list);
  }

  static DpoTrainer.Settings dpoSettings(JobSpec spec) {
    var dpo = spec.getDpo();
    return new DpoTrainer.Settings(
        dpo.hasBeta() ? dpo.getBeta() : 0.1,
        PreferenceLosses.DpoLoss.parse(dpo.hasLossType() ? dpo.getLossType() : "sigmoid"),
        dpo.hasLabelSmoothing() ? dpo.getLabelSmoothing() : 0);
  }

  /** Self-Instruct from the job (defaults resolved by JobSpecDefaults). */
  static MethodSettings.SelfInstructData selfInstruct(
      dev.tuneforge.proto.v1.SelfInstructConfig c, long seed) {
    return new MethodSettings.SelfInstructData(
        new dev.tuneforge.llm.synth.SelfInstruct.Settings(
            c.getTargetCount(),
            c.getMaxRounds(),
            c.getPromptsPerRound(),
            c.getExamplesPerPrompt(),
            c.getMachineExamples(),
            c.getRougeThreshold(),
            c.getMinWords(),
            c.getMaxWords(),
            c.getBlacklistCount() == 0
                ? dev.tuneforge.llm.synth.SelfInstruct.DEFAULT_BLACKLIST
                : c.getBlacklistList(),
            seed),
        new MethodSettings.Sampling(c.getMaxNewTokens(), c.getTemperature(), c.getTopP()));
  }

  /** Constitutional AI from the job: its principles, else the built-in constitution. */
  static MethodSettings.ConstitutionalAiData constitutionalAi(
      dev.tuneforge.proto.v1.ConstitutionalAiConfig c, int batchSize) {
    List<dev.tuneforge.llm.synth.ConstitutionalAi.Principle> principles =
        c.getPrinciplesCount() == 0
            ? dev.tuneforge.llm.synth.ConstitutionalAi.DEFAULT_CONSTITUTION
            : c.getPrinciplesList().stream()
                .map(
                    p ->
                        new dev.tuneforge.llm.synth.ConstitutionalAi.Principle(
                            p.getName(), p.getCritiqueRequest(), p.getRevisionRequest()))
                .toList();
    return new MethodSettings.ConstitutionalAiData(
        principles,
        batchSize,
        new MethodSettings.Sampling(c.getMaxNewTokens(), c.getTemperature(), c.getTopP()));
  }

  /** TRL's OnlineDPOConfig from the job (defaults resolved by JobSpecDefaults). */
  static OnlineDpoTrainer.Settings onlineDpoSettings(JobSpec spec) {
    var online = spec.getOnlineDpo();
    return new OnlineDpoTrainer.Settings(
        online.hasBeta() ? online.getBeta() : 0.1,
        PreferenceLosses.DpoLoss.parse(online.hasLossType() ? online.getLossType() : "sigmoid"),
        online.hasMaxNewTokens() ? online.getMaxNewTokens() : 64,
        online.hasTemperature() ? online.getTemperature() : 0.9,
        online.hasMissingEosPenalty() ? online.getMissingEosPenalty() : 0);
  }

  /** Online DPO's judge: its judge model (fetched into the inputs), else its reward model. */
  private static MethodSettings.Judging onlineDpoJudging(
      JobSpec spec, Inputs in, Function<String, TextReward> rewards) {
    var online = spec.getOnlineDpo();
    if (online.getJudgeModel().isEmpty()) {
      return new MethodSettings.Judging.ByReward(rewards.apply(rewardModel(spec)));
    }
    if (in.judgeModel() == null) {
      throw new IllegalStateException("judge model " + online.getJudgeModel() + " was not fetched");
    }
    return new MethodSettings.Judging.ByModel(
        in.judgeModel(), online.hasJudgeTemplate() ? online.getJudgeTemplate() : null);
  }

  /** The judge model an online DPO job names, if any. */
  static java.util.Optional<String> judgeModel(JobSpec spec) {
    return spec.getMethod() == JobSpec.Method.ONLINE_DPO
            && !spec.getOnlineDpo().getJudgeModel().isEmpty()
        ? java.util.Optional.of(spec.getOnlineDpo().getJudgeModel())
        : java.util.Optional.empty();
  }

  /** The reward model a PPO, online DPO or Best-of-N job is scored by. */
  static String rewardModel(JobSpec spec) {
    JobSpecDefaults.RewardBlock reward =
        JobSpecDefaults.rewardBlock(spec)
            .orElseThrow(() -> new IllegalArgumentException(spec.getMethod() + " has no reward"));
    if (reward.rewardModel().isEmpty()) {
      throw new IllegalArgumentException(
          reward.block()
              + ".reward_model is required: the name of a reward model served by reward-service");
    }
    return reward.rewardModel();
  }

  /**
   * TRL's PPOConfig from the job: a step rolls out per_device_train_batch_size ×
   * gradient_accumulation_steps prompts and updates on num_mini_batches mini-batches of them;
   * max_steps, or num_train_epochs passes over the prompts, sets the steps.
   */
  static PpoSettings ppoSettings(JobSpec spec, long prompts) {
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

  static MethodSettings.BestOfNSettings bestOfNSettings(JobSpec spec) {
    var b = spec.getBestOfN();
    return new MethodSettings.BestOfNSettings(
        b.getN(),
        b.getTemperature(),
        b.getTopK(),
        b.getTopP(),
        b.getMaxNewTokens(),
        spec.getSeed());
  }
}
