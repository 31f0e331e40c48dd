package dev.tuneforge.proto;

import dev.tuneforge.proto.v1.AdapterConfig;
import dev.tuneforge.proto.v1.AdapterConfig.PeftType;
import dev.tuneforge.proto.v1.BestOfNConfig;
import dev.tuneforge.proto.v1.DpoConfig;
import dev.tuneforge.proto.v1.Hyperparameters;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobSpec.Method;
import dev.tuneforge.proto.v1.LoraConfig;
import dev.tuneforge.proto.v1.PpoConfig;
import dev.tuneforge.proto.v1.QuantizationConfig;
import java.util.List;
import java.util.Optional;

/**
 * Fills every unset option of a job spec with its default, so a trainer reads one complete spec.
 * Defaults follow transformers / TRL / PEFT, with the common fine-tuning choices for adapters:
 * learning rate 2e-4 with an adapter and 2e-5 for full fine-tuning (TRL SFTConfig), 1e-6 for DPO
 * (TRL DPOConfig); LoRA r=16, alpha=32, dropout 0.05 on every linear projection; QLoRA NF4 with
 * max_grad_norm 0.3 (Dettmers et al., 2023). The .proto comments list the same values.
 */
public final class JobSpecDefaults {
  /** Every linear projection of a Llama block, PEFT's "all-linear" for this architecture. */
  public static final List<String> ALL_LINEAR =
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  private JobSpecDefaults() {}

  /** The spec with its defaults applied; values that were set are kept. */
  public static JobSpec resolve(JobSpec spec) {
    JobSpec.Builder resolved = spec.toBuilder();
    if (!spec.hasSeed()) {
      resolved.setSeed(42);
    }
    Optional<PeftType> peft = peftType(spec);
    resolved.setHyperparameters(hyperparameters(spec, peft.isPresent()));
    peft.ifPresent(type -> resolved.setAdapter(adapter(spec, type)));
    if (spec.getMethod() == Method.DPO) {
      resolved.setDpo(dpo(spec.getDpo()));
    }
    if (spec.getMethod() == Method.PPO) {
      resolved.setPpo(ppo(spec.getPpo()));
    }
    if (spec.getMethod() == Method.BEST_OF_N) {
      resolved.setBestOfN(bestOfN(spec.getBestOfN()));
    }
    if (spec.getMethod() == Method.ONLINE_DPO) {
      resolved.setOnlineDpo(onlineDpo(spec.getOnlineDpo()));
    }
    if (spec.getMethod() == Method.SELF_INSTRUCT) {
      resolved.setSelfInstruct(selfInstruct(spec.getSelfInstruct()));
    }
    if (spec.getMethod() == Method.CONSTITUTIONAL_AI) {
      resolved.setConstitutionalAi(constitutionalAi(spec.getConstitutionalAi()));
    }
    return resolved.build();
  }

  /**
   * The adapter a job trains, or empty for full fine-tuning. SFT defaults to LoRA; LORA, QLORA,
   * PREFIX, PROMPT, IA3 and ADALORA name theirs; DPO, ONLINE_DPO, PPO, REWARD_MODEL and BEST_OF_N
   * (whose best samples are fine-tuned on) use adapter.peft_type when set.
   */
  public static Optional<PeftType> peftType(JobSpec spec) {
    PeftType configured = spec.getAdapter().getPeftType();
    boolean set = configured != PeftType.PEFT_TYPE_UNSPECIFIED;
    return switch (spec.getMethod()) {
      case SFT -> Optional.of(set ? configured : PeftType.LORA);
      case LORA, QLORA -> Optional.of(PeftType.LORA);
      case ADALORA -> Optional.of(PeftType.ADALORA);
      case IA3 -> Optional.of(PeftType.IA3);
      case PREFIX -> Optional.of(PeftType.PREFIX_TUNING);
      case PROMPT -> Optional.of(PeftType.PROMPT_TUNING);
      case DPO, ONLINE_DPO, PPO, REWARD_MODEL, BEST_OF_N ->
          set ? Optional.of(configured) : Optional.empty();
      case FULL, SELF_INSTRUCT, CONSTITUTIONAL_AI, METHOD_UNSPECIFIED, UNRECOGNIZED ->
          Optional.empty();
    };
  }

  /** The settings block of a method judged by a reward model, and the model it names. */
  public record RewardBlock(String block, String rewardModel) {}

  /** PPO's, online DPO's or Best-of-N's reward block; empty for the other methods. */
  public static Optional<RewardBlock> rewardBlock(JobSpec spec) {
    return switch (spec.getMethod()) {
      case PPO -> Optional.of(new RewardBlock("ppo", spec.getPpo().getRewardModel()));
      case ONLINE_DPO ->
          Optional.of(new RewardBlock("online_dpo", spec.getOnlineDpo().getRewardModel()));
      case BEST_OF_N ->
          Optional.of(new RewardBlock("best_of_n", spec.getBestOfN().getRewardModel()));
      default -> Optional.empty();
    };
  }

  /** Whether the job writes data (Self-Instruct, Constitutional AI) instead of training a model. */
  public static boolean generatesData(JobSpec spec) {
    return spec.getMethod() == Method.SELF_INSTRUCT || spec.getMethod() == Method.CONSTITUTIONAL_AI;
  }

  /** Whether the base weights are quantized to NF4 (QLoRA). */
  public static boolean quantized(JobSpec spec) {
    return spec.getMethod() == Method.QLORA || spec.getAdapter().getQuantization().getLoadIn4Bit();
  }

  private static Hyperparameters hyperparameters(JobSpec spec, boolean adapter) {
    Hyperparameters h = spec.getHyperparameters();
    Hyperparameters.Builder b = h.toBuilder();
    // TRL's DPOConfig and OnlineDPOConfig defaults for those methods
    double learningRate =
        spec.getMethod() == Method.DPO
            ? 1e-6
            : spec.getMethod() == Method.ONLINE_DPO ? 5e-7 : adapter ? 2e-4 : 2e-5;
    if (!h.hasLearningRate()) b.setLearningRate(learningRate);
    if (!h.hasNumTrainEpochs()) b.setNumTrainEpochs(3);
    if (!h.hasMaxSteps()) b.setMaxSteps(-1);
    if (!h.hasPerDeviceTrainBatchSize()) b.setPerDeviceTrainBatchSize(8);
    if (!h.hasGradientAccumulationSteps()) b.setGradientAccumulationSteps(1);
    if (!h.hasWeightDecay()) b.setWeightDecay(0.0);
    if (!h.hasAdamBeta1()) b.setAdamBeta1(0.9);
    if (!h.hasAdamBeta2()) b.setAdamBeta2(0.999);
    if (!h.hasAdamEpsilon()) b.setAdamEpsilon(spec.getMethod() == Method.PPO ? 1e-5 : 1e-8);
    if (!h.hasMaxGradNorm()) b.setMaxGradNorm(quantized(spec) ? 0.3 : 1.0);
    if (!h.hasLrSchedulerType()) b.setLrSchedulerType("linear");
    if (!h.hasWarmupRatio()) b.setWarmupRatio(spec.getMethod() == Method.PPO ? 0.0 : 0.03);
    if (!h.hasWarmupSteps()) b.setWarmupSteps(0);
    if (!h.hasLoggingSteps()) b.setLoggingSteps(10);
    if (!h.hasEvalSteps()) b.setEvalSteps(100);
    if (!h.hasSaveSteps()) b.setSaveSteps(100);
    if (!h.hasSaveTotalLimit()) b.setSaveTotalLimit(0);
    if (!h.hasMaxSeqLength()) b.setMaxSeqLength(1024);
    if (!h.hasPacking()) b.setPacking(false);
    if (!h.hasCompletionOnlyLoss()) b.setCompletionOnlyLoss(true);
    if (!h.hasAssistantOnlyLoss()) b.setAssistantOnlyLoss(false);
    if (!h.hasGradientCheckpointing()) b.setGradientCheckpointing(false);
    if (!h.hasBf16()) b.setBf16(false);
    if (!h.hasFp16()) b.setFp16(false);
    if (!h.hasGroupByLength()) b.setGroupByLength(false);
    if (!h.hasLoadBestModelAtEnd()) b.setLoadBestModelAtEnd(false);
    if (!h.hasMetricForBestModel()) b.setMetricForBestModel("eval_loss");
    if (!h.hasGreaterIsBetter()) b.setGreaterIsBetter(false);
    if (!h.hasEarlyStoppingThreshold()) b.setEarlyStoppingThreshold(0.0);
    return b.build();
  }

  private static AdapterConfig adapter(JobSpec spec, PeftType type) {
    AdapterConfig.Builder adapter = spec.getAdapter().toBuilder().setPeftType(type);
    if (type == PeftType.ADALORA) {
      // PEFT's AdaLoraConfig defaults (a LoraConfig's alpha 8 and dropout 0, q_proj and v_proj);
      // total_step stays unset: the trainer takes the run's steps.
      LoraConfig lora = spec.getAdapter().getLora();
      LoraConfig.Builder b = lora.toBuilder();
      if (!lora.hasLoraAlpha()) b.setLoraAlpha(8);
      if (!lora.hasLoraDropout()) b.setLoraDropout(0.0);
      if (lora.getTargetModulesCount() == 0) b.addAllTargetModules(List.of("q_proj", "v_proj"));
      adapter.setLora(b);
      dev.tuneforge.proto.v1.AdaLoraConfig ada = spec.getAdapter().getAdalora();
      dev.tuneforge.proto.v1.AdaLoraConfig.Builder a = ada.toBuilder();
      if (!ada.hasInitR()) a.setInitR(12);
      if (!ada.hasTargetR()) a.setTargetR(8);
      if (!ada.hasTinit()) a.setTinit(0);
      if (!ada.hasTfinal()) a.setTfinal(0);
      if (!ada.hasDeltaT()) a.setDeltaT(1);
      if (!ada.hasBeta1()) a.setBeta1(0.85);
      if (!ada.hasBeta2()) a.setBeta2(0.85);
      if (!ada.hasOrthRegWeight()) a.setOrthRegWeight(0.5);
      adapter.setAdalora(a);
    }
    if (type == PeftType.LORA) {
      LoraConfig lora = spec.getAdapter().getLora();
      LoraConfig.Builder b = lora.toBuilder();
      if (!lora.hasR()) b.setR(16);
      if (!lora.hasLoraAlpha()) b.setLoraAlpha(32);
      if (!lora.hasLoraDropout()) b.setLoraDropout(0.05);
      if (lora.getTargetModulesCount() == 0) b.addAllTargetModules(ALL_LINEAR);
      if (!lora.hasBias()) b.setBias("none");
      if (!lora.hasUseRslora()) b.setUseRslora(false);
      if (!lora.hasInitLoraWeights()) b.setInitLoraWeights("true");
      adapter.setLora(b);
    }
    if (quantized(spec)) {
      QuantizationConfig q = spec.getAdapter().getQuantization();
      QuantizationConfig.Builder b = q.toBuilder();
      if (!q.hasLoadIn4Bit()) b.setLoadIn4Bit(true);
      if (!q.hasBnb4BitQuantType()) b.setBnb4BitQuantType("nf4");
      if (!q.hasBnb4BitComputeDtype()) b.setBnb4BitComputeDtype("float32");
      if (!q.hasBnb4BitUseDoubleQuant()) b.setBnb4BitUseDoubleQuant(false);
      if (!q.hasBlocksize()) b.setBlocksize(64);
      adapter.setQuantization(b);
    }
    return adapter.build();
  }

  private static DpoConfig dpo(DpoConfig dpo) {
    DpoConfig.Builder b = dpo.toBuilder();
    if (!dpo.hasBeta()) b.setBeta(0.1);
    if (!dpo.hasLossType()) b.setLossType("sigmoid");
    if (!dpo.hasLabelSmoothing()) b.setLabelSmoothing(0.0);
    // max_prompt_length stays unset unless given: the trainer then keeps half of max_seq_length.
    return b.build();
  }

  private static dev.tuneforge.proto.v1.OnlineDpoConfig onlineDpo(
      dev.tuneforge.proto.v1.OnlineDpoConfig online) {
    dev.tuneforge.proto.v1.OnlineDpoConfig.Builder b = online.toBuilder();
    if (!online.hasBeta()) b.setBeta(0.1);
    if (!online.hasLossType()) b.setLossType("sigmoid");
    if (!online.hasMaxNewTokens()) b.setMaxNewTokens(64);
    if (!online.hasTemperature()) b.setTemperature(0.9);
    // missing_eos_penalty stays unset unless given: no penalty, as TRL's None
    return b.build();
  }

  /** Self-Instruct's defaults (the paper's filters; its blacklist is the trainer's default). */
  private static dev.tuneforge.proto.v1.SelfInstructConfig selfInstruct(
      dev.tuneforge.proto.v1.SelfInstructConfig c) {
    var b = c.toBuilder();
    if (!c.hasTargetCount()) b.setTargetCount(100);
    if (!c.hasMaxRounds()) b.setMaxRounds(50);
    if (!c.hasPromptsPerRound()) b.setPromptsPerRound(4);
    if (!c.hasExamplesPerPrompt()) b.setExamplesPerPrompt(8);
    if (!c.hasMachineExamples()) b.setMachineExamples(2);
    if (!c.hasRougeThreshold()) b.setRougeThreshold(0.7);
    if (!c.hasMinWords()) b.setMinWords(3);
    if (!c.hasMaxWords()) b.setMaxWords(150);
    if (!c.hasMaxNewTokens()) b.setMaxNewTokens(256);
    if (!c.hasTemperature()) b.setTemperature(0.7);
    if (!c.hasTopP()) b.setTopP(1.0);
    return b.build();
  }

  /** Constitutional AI's defaults (no principles: the built-in constitution). */
  private static dev.tuneforge.proto.v1.ConstitutionalAiConfig constitutionalAi(
      dev.tuneforge.proto.v1.ConstitutionalAiConfig c) {
    var b = c.toBuilder();
    if (!c.hasMaxNewTokens()) b.setMaxNewTokens(256);
    if (!c.hasTemperature()) b.setTemperature(0.7);
    if (!c.hasTopP()) b.setTopP(1.0);
    return b.build();
  }

  private static PpoConfig ppo(PpoConfig ppo) {
    PpoConfig.Builder b = ppo.toBuilder();
    if (!ppo.hasNumPpoEpochs()) b.setNumPpoEpochs(4);
    if (!ppo.hasNumMiniBatches()) b.setNumMiniBatches(1);
    if (!ppo.hasKlCoef()) b.setKlCoef(0.05);
    if (!ppo.hasKlEstimator()) b.setKlEstimator("k1");
    if (!ppo.hasCliprange()) b.setCliprange(0.2);
    if (!ppo.hasCliprangeValue()) b.setCliprangeValue(0.2);
    if (!ppo.hasVfCoef()) b.setVfCoef(0.1);
    if (!ppo.hasGamma()) b.setGamma(1.0);
    if (!ppo.hasLam()) b.setLam(0.95);
    if (!ppo.hasWhitenRewards()) b.setWhitenRewards(false);
    if (!ppo.hasResponseLength()) b.setResponseLength(53);
    if (!ppo.hasTemperature()) b.setTemperature(0.7);
    if (!ppo.hasEntropyCoef()) b.setEntropyCoef(0.0);
    return b.build();
  }

  private static BestOfNConfig bestOfN(BestOfNConfig bestOfN) {
    BestOfNConfig.Builder b = bestOfN.toBuilder();
    if (!bestOfN.hasN()) b.setN(4);
    if (!bestOfN.hasTemperature()) b.setTemperature(0.7);
    if (!bestOfN.hasTopP()) b.setTopP(1.0);
    if (!bestOfN.hasTopK()) b.setTopK(0);
    if (!bestOfN.hasMaxNewTokens()) b.setMaxNewTokens(128);
    return b.build();
  }
}
