package dev.tuneforge.proto;

import java.util.Map;

/**
 * Where every field of the job spec goes, so none is dropped without a word: each field of every
 * message reachable from {@code JobSpec} has one entry ({@code JobSpecFieldsTest} fails on a field
 * that has none). A field the platform does not act on yet is {@link Use#REFUSED}: {@link
 * JobSpecRules} refuses it by name whenever it is set, with the reason given here.
 */
public final class JobSpecFields {
  /** Who acts on a field. */
  public enum Use {
    /** Identity, ownership and naming: the gateway and every service's records. */
    IDENTITY,
    /** data-service: reading, formatting, validating and splitting the dataset. */
    DATA,
    /** trainer-service: the run's model, method, adapter and settings. */
    TRAINER,
    /** eval-service: what the evaluation measures. */
    EVAL,
    /** Kept with the job and shown back, acting on nothing (a label). */
    RECORDED,
    /** Not acted on yet: refused whenever set. */
    REFUSED
  }

  private JobSpecFields() {}

  /** Why each {@link Use#REFUSED} field is refused. */
  public static final Map<String, String> REFUSED =
      Map.ofEntries(
          Map.entry("JobSpec.preset", "named presets are not defined; set the hyperparameters"),
          Map.entry(
              "Hyperparameters.per_device_eval_batch_size",
              "evaluation runs in batches of per_device_train_batch_size"),
          Map.entry(
              "DpoConfig.reference_free",
              "DPO always scores against the reference (the disabled adapter or a frozen copy)"),
          Map.entry(
              "DpoConfig.precompute_ref_log_probs",
              "the reference's log-probabilities are computed with each batch"),
          Map.entry(
              "RewardModelConfig.max_length",
              "reward models are trained on hyperparameters.max_seq_length tokens"),
          Map.entry(
              "ComputeConfig.num_threads",
              "a replica's threads are its own setting (TUNEFORGE_THREADS)"));

  /** Every field, by {@code Message.field}. */
  public static final Map<String, Use> USES = uses();

  private static Map<String, Use> uses() {
    Map<String, Use> uses = new java.util.LinkedHashMap<>();
    for (String f : new String[] {"job_id", "tenant", "suffix", "metadata"}) {
      uses.put("JobSpec." + f, Use.IDENTITY);
    }
    for (String f :
        new String[] {
          "base_model",
          "method",
          "hyperparameters",
          "adapter",
          "dpo",
          "ppo",
          "reward_model",
          "best_of_n",
          "online_dpo",
          "self_instruct",
          "constitutional_ai",
          "seed",
          "compute"
        }) {
      uses.put("JobSpec." + f, Use.TRAINER);
    }
    uses.put("JobSpec.dataset", Use.DATA);
    uses.put("JobSpec.eval", Use.EVAL);
    uses.put("JobSpec.preset", Use.REFUSED);
    uses.put("ModelRef.name", Use.TRAINER);
    uses.put("ModelRef.revision", Use.RECORDED);
    for (String f :
        new String[] {
          "training_file",
          "validation_file",
          "format",
          "validation_split",
          "test_split",
          "chat_template",
          "deduplicate",
          "invalid_records",
          "over_length",
          "near_duplicate_threshold",
          "stratify_by"
        }) {
      uses.put("DatasetRef." + f, Use.DATA);
    }
    for (String f :
        new String[] {
          "learning_rate",
          "num_train_epochs",
          "max_steps",
          "per_device_train_batch_size",
          "gradient_accumulation_steps",
          "weight_decay",
          "adam_beta1",
          "adam_beta2",
          "adam_epsilon",
          "max_grad_norm",
          "lr_scheduler_type",
          "warmup_ratio",
          "warmup_steps",
          "logging_steps",
          "eval_steps",
          "save_steps",
          "save_total_limit",
          "max_seq_length",
          "packing",
          "completion_only_loss",
          "assistant_only_loss",
          "neftune_noise_alpha",
          "gradient_checkpointing",
          "bf16",
          "fp16",
          "group_by_length",
          "load_best_model_at_end",
          "metric_for_best_model",
          "greater_is_better",
          "early_stopping_patience",
          "early_stopping_threshold"
        }) {
      uses.put("Hyperparameters." + f, Use.TRAINER);
    }
    uses.put("Hyperparameters.per_device_eval_batch_size", Use.REFUSED);
    for (String f :
        new String[] {"peft_type", "lora", "quantization", "ia3", "prompt_learning", "adalora"}) {
      uses.put("AdapterConfig." + f, Use.TRAINER);
    }
    for (String f :
        new String[] {
          "r",
          "lora_alpha",
          "lora_dropout",
          "target_modules",
          "bias",
          "use_rslora",
          "modules_to_save",
          "init_lora_weights"
        }) {
      uses.put("LoraConfig." + f, Use.TRAINER);
    }
    for (String f :
        new String[] {
          "load_in_4bit",
          "bnb_4bit_quant_type",
          "bnb_4bit_compute_dtype",
          "bnb_4bit_use_double_quant",
          "blocksize"
        }) {
      uses.put("QuantizationConfig." + f, Use.TRAINER);
    }
    for (String f :
        new String[] {
          "init_r",
          "target_r",
          "tinit",
          "tfinal",
          "delta_t",
          "beta1",
          "beta2",
          "orth_reg_weight",
          "total_step"
        }) {
      uses.put("AdaLoraConfig." + f, Use.TRAINER);
    }
    uses.put("Ia3Config.target_modules", Use.TRAINER);
    uses.put("Ia3Config.feedforward_modules", Use.TRAINER);
    for (String f :
        new String[] {
          "num_virtual_tokens",
          "prompt_tuning_init",
          "prompt_tuning_init_text",
          "prefix_projection",
          "encoder_hidden_size"
        }) {
      uses.put("PromptLearningConfig." + f, Use.TRAINER);
    }
    for (String f : new String[] {"beta", "loss_type", "label_smoothing", "max_prompt_length"}) {
      uses.put("DpoConfig." + f, Use.TRAINER);
    }
    uses.put("DpoConfig.reference_free", Use.REFUSED);
    uses.put("DpoConfig.precompute_ref_log_probs", Use.REFUSED);
    for (String f :
        new String[] {
          "num_ppo_epochs", "num_mini_batches", "kl_coef", "kl_estimator", "target_kl", "cliprange",
          "cliprange_value", "vf_coef", "gamma", "lam", "whiten_rewards", "response_length",
          "temperature", "entropy_coef", "reward_model", "missing_eos_penalty"
        }) {
      uses.put("PpoConfig." + f, Use.TRAINER);
    }
    for (String f :
        new String[] {
          "beta",
          "loss_type",
          "max_new_tokens",
          "temperature",
          "missing_eos_penalty",
          "reward_model",
          "judge_model",
          "judge_template"
        }) {
      uses.put("OnlineDpoConfig." + f, Use.TRAINER);
    }
    for (String f :
        new String[] {
          "target_count",
          "max_rounds",
          "prompts_per_round",
          "examples_per_prompt",
          "machine_examples",
          "rouge_threshold",
          "min_words",
          "max_words",
          "blacklist",
          "max_new_tokens",
          "temperature",
          "top_p"
        }) {
      uses.put("SelfInstructConfig." + f, Use.TRAINER);
    }
    for (String f : new String[] {"principles", "max_new_tokens", "temperature", "top_p"}) {
      uses.put("ConstitutionalAiConfig." + f, Use.TRAINER);
    }
    for (String f : new String[] {"name", "critique_request", "revision_request"}) {
      uses.put("Principle." + f, Use.TRAINER);
    }
    uses.put("RewardModelConfig.center_rewards_coefficient", Use.TRAINER);
    uses.put("RewardModelConfig.max_length", Use.REFUSED);
    for (String f :
        new String[] {"n", "temperature", "top_p", "top_k", "max_new_tokens", "reward_model"}) {
      uses.put("BestOfNConfig." + f, Use.TRAINER);
    }
    uses.put("ComputeConfig.device", Use.TRAINER);
    uses.put("ComputeConfig.dtype", Use.TRAINER);
    uses.put("ComputeConfig.num_threads", Use.REFUSED);
    for (String f :
        new String[] {
          "metrics",
          "max_eval_samples",
          "max_new_tokens",
          "reward_model",
          "evaluate_checkpoints",
          "rouge_use_stemmer"
        }) {
      uses.put("EvalConfig." + f, Use.EVAL);
    }
    return java.util.Collections.unmodifiableMap(uses);
  }
}
