package dev.tuneforge.proto;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.tuneforge.proto.JobSpecRules.Violation;
import dev.tuneforge.proto.v1.AdapterConfig;
import dev.tuneforge.proto.v1.JobSpec;
import java.util.List;
import java.util.Set;

/**
 * The combination rules of a job spec, after each field's own range ({@link JobSpecRules}): the
 * method × adapter matrix the trainer runs, the settings only supervised fine-tuning acts on, and
 * each PEFT method's own constraints, refused by name and field instead of ignored.
 */
public final class JobSpecCombinations {
  private JobSpecCombinations() {}

  /**
   * The hyper-parameters only supervised fine-tuning acts on, in the order they are checked: the
   * engine's list ({@code MethodSettings.SFT_ONLY} in llm-core, which the gateway does not link);
   * trainer-service's {@code MethodAdapterMatrixTest} holds the two equal.
   */
  public static final List<String> SFT_ONLY =
      List.of(
          "packing",
          "gradient_checkpointing",
          "fp16",
          "group_by_length",
          "load_best_model_at_end",
          "assistant_only_loss",
          "neftune_noise_alpha",
          "early_stopping_patience");

  /**
   * The first hyper-parameter of {@code h} that only supervised fine-tuning acts on and that is set
   * to do something (packing, gradient checkpointing, fp16, grouping by length, best-model restore,
   * assistant-only loss, NEFTune, early stopping), or empty: DPO, reward models and PPO would
   * ignore it, so it is refused for them instead.
   */
  public static java.util.Optional<String> sftOnlySetting(
      dev.tuneforge.proto.v1.Hyperparameters h) {
    for (String name : SFT_ONLY) {
      com.google.protobuf.Descriptors.FieldDescriptor field =
          dev.tuneforge.proto.v1.Hyperparameters.getDescriptor().findFieldByName(name);
      if (!h.getField(field).equals(field.getDefaultValue())) {
        return java.util.Optional.of(name);
      }
    }
    return java.util.Optional.empty();
  }

  /** The method × adapter matrix: what the trainer runs. */
  static void check(JobSpec spec) {
    JobSpec.Method method = spec.getMethod();
    int maxSeqLength =
        spec.getHyperparameters().hasMaxSeqLength()
            ? spec.getHyperparameters().getMaxSeqLength()
            : 1024;
    if (spec.getDpo().hasMaxPromptLength() && spec.getDpo().getMaxPromptLength() >= maxSeqLength) {
      throw new Violation(
          "dpo.max_prompt_length",
          dev.tuneforge.proto.v1.DpoConfig.getDescriptor().findFieldByName("max_prompt_length"),
          "dpo.max_prompt_length "
              + spec.getDpo().getMaxPromptLength()
              + " must be below max_seq_length "
              + maxSeqLength
              + ", which counts the prompt and the response");
    }
    if (spec.getCompute().hasDtype() && !spec.getCompute().getDtype().equals("float32")) {
      java.util.Optional<AdapterConfig.PeftType> peft = JobSpecDefaults.peftType(spec);
      if (peft.isEmpty()
          || peft.get() != AdapterConfig.PeftType.LORA
          || JobSpecDefaults.quantized(spec)) {
        throw new Violation(
            "compute.dtype",
            dev.tuneforge.proto.v1.ComputeConfig.getDescriptor().findFieldByName("dtype"),
            "compute.dtype "
                + spec.getCompute().getDtype()
                + " keeps a LoRA adapter's frozen base in half precision; this job "
                + (peft.isEmpty()
                    ? "trains every weight in float32 (use hyperparameters.fp16 for mixed"
                        + " precision)"
                    : JobSpecDefaults.quantized(spec)
                        ? "keeps its base in NF4 (QLoRA)"
                        : "trains " + peft.get() + ", whose base stays in float32"));
      }
    }
    AdapterConfig.PeftType type = spec.getAdapter().getPeftType();
    boolean ia3 = type == AdapterConfig.PeftType.IA3 || method == JobSpec.Method.IA3;
    if (spec.getAdapter().hasIa3() && !ia3) {
      throw new Violation(
          "adapter.ia3", null, "adapter.ia3 settings are given but the adapter is not ia3");
    }
    boolean adalora = type == AdapterConfig.PeftType.ADALORA || method == JobSpec.Method.ADALORA;
    if (spec.getAdapter().hasAdalora() && !adalora) {
      throw new Violation(
          "adapter.init_r",
          null,
          "AdaLoRA settings (init_r, target_r...) are given but the adapter is not adalora");
    }
    if (ia3 && spec.getAdapter().getIa3().getFeedforwardModulesCount() > 0) {
      var config = spec.getAdapter().getIa3();
      boolean defaults = config.getTargetModulesCount() == 0;
      // Without target_modules, the model_type's defaults apply: v_proj and down_proj are in all.
      List<String> targets =
          defaults ? List.of("v_proj", "down_proj") : config.getTargetModulesList();
      for (String module : config.getFeedforwardModulesList()) {
        if (!targets.contains(module)) {
          throw new Violation(
              "adapter.feedforward_modules",
              dev.tuneforge.proto.v1.Ia3Config.getDescriptor()
                  .findFieldByName("feedforward_modules"),
              "adapter.feedforward_modules names \""
                  + module
                  + "\", which is not among the target_modules "
                  + (defaults ? "(the model's defaults; set target_modules to choose) " : "")
                  + targets
                  + "; PEFT requires feed-forward modules to be targets");
        }
      }
    }
    if (spec.getAdapter().hasLora() && ia3) {
      throw new Violation(
          "adapter.lora", null, "adapter.lora settings are given but the adapter is ia3");
    }
    promptLearning(
        spec,
        method == JobSpec.Method.PROMPT || type == AdapterConfig.PeftType.PROMPT_TUNING,
        method == JobSpec.Method.PREFIX || type == AdapterConfig.PeftType.PREFIX_TUNING);
    if (method == JobSpec.Method.ADALORA || type == AdapterConfig.PeftType.ADALORA) {
      adaLora(spec);
    }
    rewardModel(spec);
    generation(spec);
    if (method == JobSpec.Method.DPO
        || method == JobSpec.Method.REWARD_MODEL
        || method == JobSpec.Method.PPO
        || method == JobSpec.Method.ONLINE_DPO) {
      java.util.Optional<String> sftOnly = sftOnlySetting(spec.getHyperparameters());
      if (sftOnly.isPresent()) {
        throw new Violation(
            "hyperparameters." + sftOnly.get(),
            dev.tuneforge.proto.v1.Hyperparameters.getDescriptor().findFieldByName(sftOnly.get()),
            "hyperparameters."
                + sftOnly.get()
                + " is supervised fine-tuning's; method "
                + method.name().toLowerCase(java.util.Locale.ROOT)
                + " does not use it (leave it unset)");
      }
    }
    // Every method runs every adapter (llm-core's TrainingJob refuses none of the pairs;
    // MethodAdapterMatrixTest holds the gateway to the trainer pair by pair), so the matrix has
    // no refusals left; the combinations below are settings, not pairs.
  }

  /**
   * Data generation (Self-Instruct, Constitutional AI) writes with the base model and trains
   * nothing: an adapter or a training setting would be ignored, so it is refused by name; only
   * save_steps (how often the state is checkpointed) applies, and for Constitutional AI
   * per_device_train_batch_size (prompts per batch).
   */
  private static void generation(JobSpec spec) {
    if (!JobSpecDefaults.generatesData(spec)) {
      return;
    }
    JobSpec.Method method = spec.getMethod();
    String name = method.name().toLowerCase(java.util.Locale.ROOT);
    if (spec.hasAdapter()) {
      throw new Violation(
          "adapter",
          null,
          "adapter is not used by "
              + name
              + ": it writes data with the base model, training nothing");
    }
    if (!spec.getEval().getAllFields().isEmpty()) {
      throw new Violation(
          "eval",
          null,
          "eval is not used by " + name + ": it writes data, there is no model to evaluate");
    }
    for (FieldDescriptor field : spec.getHyperparameters().getAllFields().keySet()) {
      boolean batch =
          method == JobSpec.Method.CONSTITUTIONAL_AI
              && field.getName().equals("per_device_train_batch_size");
      if (!field.getName().equals("save_steps") && !batch) {
        throw new Violation(
            "hyperparameters." + field.getName(),
            field,
            "hyperparameters."
                + field.getName()
                + " is not used by "
                + name
                + ": it writes data with the base model, training nothing (leave it unset)");
      }
    }
    var si = spec.getSelfInstruct();
    if (si.hasMachineExamples()
        && si.getMachineExamples() > (si.hasExamplesPerPrompt() ? si.getExamplesPerPrompt() : 8)) {
      throw new Violation(
          "self_instruct.machine_examples",
          si.getDescriptorForType().findFieldByName("machine_examples"),
          "self_instruct.machine_examples must be at most examples_per_prompt");
    }
    if (si.hasMinWords() && si.getMinWords() > (si.hasMaxWords() ? si.getMaxWords() : 150)) {
      throw new Violation(
          "self_instruct.min_words",
          si.getDescriptorForType().findFieldByName("min_words"),
          "self_instruct.min_words must be at most max_words");
    }
  }

  /**
   * The reward model a reward-driven method (PPO, online DPO, Best-of-N) is judged by: required, by
   * the name reward-service serves it under.
   */
  private static void rewardModel(JobSpec spec) {
    if (spec.getMethod() == JobSpec.Method.ONLINE_DPO) {
      onlineDpoJudge(spec.getOnlineDpo());
      return;
    }
    JobSpecDefaults.rewardBlock(spec)
        .filter(reward -> reward.rewardModel().isEmpty())
        .ifPresent(
            reward -> {
              throw new Violation(
                  reward.block() + ".reward_model",
                  JobSpec.getDescriptor()
                      .findFieldByName(reward.block())
                      .getMessageType()
                      .findFieldByName("reward_model"),
                  reward.block()
                      + ".reward_model is required: the name of a reward model served by"
                      + " reward-service, which judges the samples");
            });
  }

  /**
   * Online DPO's judge: exactly one of a reward model (reward-service) and a judge model; a judge
   * model gives verdicts, not scores, so there is nothing for missing_eos_penalty to adjust, and
   * its template must hold the three placeholders.
   */
  private static void onlineDpoJudge(dev.tuneforge.proto.v1.OnlineDpoConfig online) {
    var fields = online.getDescriptorForType();
    boolean reward = !online.getRewardModel().isEmpty();
    boolean judge = !online.getJudgeModel().isEmpty();
    if (reward == judge) {
      throw new Violation(
          reward ? "online_dpo.judge_model" : "online_dpo.reward_model",
          fields.findFieldByName(reward ? "judge_model" : "reward_model"),
          reward
              ? "online_dpo.judge_model cannot be set with reward_model: online DPO takes one"
                  + " judge"
              : "online_dpo.reward_model is required, or judge_model: the name of a reward model"
                  + " served by reward-service, or of a registered model asked which completion is"
                  + " better");
    }
    if (online.hasJudgeTemplate() && !judge) {
      throw new Violation(
          "online_dpo.judge_template",
          fields.findFieldByName("judge_template"),
          "online_dpo.judge_template is the judge model's prompt; set judge_model to use it");
    }
    if (judge && online.hasMissingEosPenalty()) {
      throw new Violation(
          "online_dpo.missing_eos_penalty",
          fields.findFieldByName("missing_eos_penalty"),
          "online_dpo.missing_eos_penalty adjusts a reward model's scores; a judge_model gives"
              + " verdicts, not scores");
    }
    if (online.hasJudgeTemplate()) {
      for (String name : new String[] {"prompt", "first", "second"}) {
        if (!online.getJudgeTemplate().contains("{" + name + "}")) {
          throw new Violation(
              "online_dpo.judge_template",
              fields.findFieldByName("judge_template"),
              "online_dpo.judge_template must hold {prompt}, {first} and {second}; it has no {"
                  + name
                  + "}");
        }
      }
    }
  }

  /**
   * AdaLoRA's own rules: of the LoRA settings only lora_alpha, lora_dropout and target_modules
   * (init_r is the rank), target_r at most init_r, a schedule that leaves steps for the budget to
   * fall.
   */
  private static void adaLora(JobSpec spec) {
    var lora = spec.getAdapter().getLora();
    for (FieldDescriptor field : lora.getAllFields().keySet()) {
      if (!Set.of("lora_alpha", "lora_dropout", "target_modules").contains(field.getName())) {
        throw new Violation(
            "adapter." + field.getName(),
            field,
            "adapter."
                + field.getName()
                + " is not used by AdaLoRA (init_r sets the rank); it takes lora_alpha,"
                + " lora_dropout and target_modules");
      }
    }
    var ada = spec.getAdapter().getAdalora();
    var fields = dev.tuneforge.proto.v1.AdaLoraConfig.getDescriptor();
    int initR = ada.hasInitR() ? ada.getInitR() : 12;
    int targetR = ada.hasTargetR() ? ada.getTargetR() : 8;
    if (targetR > initR) {
      throw new Violation(
          "adapter.target_r",
          fields.findFieldByName("target_r"),
          "adapter.target_r " + targetR + " must be at most init_r " + initR);
    }
    if (ada.hasTotalStep() && ada.getTinit() >= ada.getTotalStep() - ada.getTfinal()) {
      throw new Violation(
          "adapter.tinit",
          fields.findFieldByName("tinit"),
          "adapter.tinit "
              + ada.getTinit()
              + " must be below total_step - tfinal ("
              + ada.getTotalStep()
              + " - "
              + ada.getTfinal()
              + "): the budget needs steps to fall");
    }
  }

  /**
   * Prompt and prefix tuning's own rules: their settings only with them (each its own), no LoRA
   * block, TEXT with its text, and no packing (each packed sequence would need its own virtual
   * tokens).
   */
  private static void promptLearning(JobSpec spec, boolean prompt, boolean prefix) {
    var learning = spec.getAdapter().getPromptLearning();
    var fields = dev.tuneforge.proto.v1.PromptLearningConfig.getDescriptor();
    if (spec.getAdapter().hasPromptLearning() && !prompt && !prefix) {
      throw new Violation(
          "adapter.num_virtual_tokens",
          null,
          "prompt learning settings (num_virtual_tokens, prompt_tuning_init...) are given but the"
              + " adapter is neither prompt nor prefix");
    }
    if (!prompt && !prefix) {
      return;
    }
    String name = prompt ? "prompt" : "prefix";
    if (spec.getAdapter().hasLora()) {
      throw new Violation(
          "adapter.lora", null, "adapter.lora settings are given but the adapter is " + name);
    }
    for (String own :
        prompt
            ? new String[] {"prefix_projection", "encoder_hidden_size"}
            : new String[] {"prompt_tuning_init", "prompt_tuning_init_text"}) {
      FieldDescriptor field = fields.findFieldByName(own);
      if (learning.hasField(field)) {
        throw new Violation(
            "adapter." + own,
            field,
            "adapter."
                + own
                + " is "
                + (prompt ? "prefix" : "prompt")
                + " tuning's; adapter.type "
                + name
                + " does not take it");
      }
    }
    if (prefix
        && learning.hasEncoderHiddenSize()
        && !(learning.hasPrefixProjection() && learning.getPrefixProjection())) {
      throw new Violation(
          "adapter.encoder_hidden_size",
          fields.findFieldByName("encoder_hidden_size"),
          "adapter.encoder_hidden_size is the prefix_projection MLP's width; set"
              + " prefix_projection true or leave it unset");
    }
    if (prompt) {
      String init = learning.hasPromptTuningInit() ? learning.getPromptTuningInit() : "RANDOM";
      FieldDescriptor text = fields.findFieldByName("prompt_tuning_init_text");
      if (init.equals("TEXT")
          && (!learning.hasPromptTuningInitText()
              || learning.getPromptTuningInitText().isBlank())) {
        throw new Violation(
            "adapter.prompt_tuning_init_text",
            text,
            "prompt_tuning_init TEXT needs a non-empty adapter.prompt_tuning_init_text");
      }
      if (!init.equals("TEXT") && learning.hasPromptTuningInitText()) {
        throw new Violation(
            "adapter.prompt_tuning_init_text",
            text,
            "adapter.prompt_tuning_init_text is only used with prompt_tuning_init TEXT, not "
                + init);
      }
    }
    if (spec.getHyperparameters().getPacking()) {
      throw new Violation(
          "hyperparameters.packing",
          dev.tuneforge.proto.v1.Hyperparameters.getDescriptor().findFieldByName("packing"),
          "hyperparameters.packing is not available with "
              + name
              + " tuning: each packed sequence would need its own virtual tokens; set packing"
              + " false");
    }
  }
}
