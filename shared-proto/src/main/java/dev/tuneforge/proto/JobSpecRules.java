package dev.tuneforge.proto;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.tuneforge.proto.v1.JobSpec;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The ranges a job spec must keep, in one place: the gateway refuses a request against them at
 * create time and data-service a spec published straight to Kafka, so the trainer never fails on a
 * value it could not run. The combination comes first ({@link JobSpecCombinations}: the method ×
 * adapter matrix, and settings the trainer does not implement yet, refused by name instead of
 * ignored), then each set field of the spec's settings against its rule (the trainer's own, and
 * sanity bounds such as a learning rate of at most 1).
 */
public final class JobSpecRules {
  /** A broken rule: the field (its proto path and descriptor) and what is wrong with it. */
  public static final class Violation extends IllegalArgumentException {
    private final String path;
    private final transient FieldDescriptor field;

    Violation(String path, FieldDescriptor field, String message) {
      super(message);
      this.path = path;
      this.field = field;
    }

    /** The field's path in the spec, e.g. {@code hyperparameters.learning_rate}. */
    public String path() {
      return path;
    }

    /** The field, or null for a rule about the whole spec. */
    public FieldDescriptor field() {
      return field;
    }
  }

  private record Rule(Predicate<Object> ok, String requirement) {}

  private static final double MAX_LEARNING_RATE = 1.0;

  private static Rule positiveFinite(double max) {
    return new Rule(
        v -> v instanceof Number n && n.doubleValue() > 0 && n.doubleValue() <= max,
        "a number > 0 and <= " + trim(max));
  }

  private static Rule range(double min, double max, boolean maxOpen) {
    return new Rule(
        v ->
            v instanceof Number n
                && n.doubleValue() >= min
                && (maxOpen ? n.doubleValue() < max : n.doubleValue() <= max),
        "a number in [" + trim(min) + ", " + trim(max) + (maxOpen ? ")" : "]"));
  }

  private static Rule ints(long min, long max) {
    return new Rule(
        v -> v instanceof Number n && n.longValue() >= min && n.longValue() <= max,
        "an integer in [" + min + ", " + max + "]");
  }

  private static Rule oneOf(String... values) {
    Set<String> allowed = Set.of(values);
    return new Rule(v -> allowed.contains(v), "one of " + String.join("|", values));
  }

  private static Rule nonNegativeFinite() {
    return new Rule(
        v -> v instanceof Number n && n.doubleValue() >= 0 && Double.isFinite(n.doubleValue()),
        "a finite number >= 0");
  }

  /** Module names of the supported families that PEFT's target_modules may list. */
  public static final Set<String> MODULES =
      Set.of(
          "all-linear",
          "q_proj",
          "k_proj",
          "v_proj",
          "o_proj",
          "gate_proj",
          "up_proj",
          "down_proj",
          "qkv_proj",
          "gate_up_proj",
          "lm_head",
          "embed_tokens");

  private static final Map<String, Rule> RULES =
      Map.ofEntries(
          Map.entry("Hyperparameters.learning_rate", positiveFinite(MAX_LEARNING_RATE)),
          Map.entry("Hyperparameters.num_train_epochs", positiveFinite(1000)),
          Map.entry("Hyperparameters.max_steps", ints(-1, 10_000_000)),
          Map.entry("Hyperparameters.per_device_train_batch_size", ints(1, 4096)),
          Map.entry("Hyperparameters.per_device_eval_batch_size", ints(1, 4096)),
          Map.entry("Hyperparameters.gradient_accumulation_steps", ints(1, 4096)),
          Map.entry("Hyperparameters.weight_decay", range(0, 1, false)),
          Map.entry("Hyperparameters.adam_beta1", range(0, 1, true)),
          Map.entry("Hyperparameters.adam_beta2", range(0, 1, true)),
          Map.entry("Hyperparameters.adam_epsilon", positiveFinite(1)),
          Map.entry("Hyperparameters.max_grad_norm", nonNegativeFinite()),
          Map.entry(
              "Hyperparameters.lr_scheduler_type",
              oneOf("constant", "constant_with_warmup", "linear", "cosine")),
          Map.entry("Hyperparameters.warmup_ratio", range(0, 1, true)),
          Map.entry("Hyperparameters.warmup_steps", ints(0, 10_000_000)),
          Map.entry("Hyperparameters.logging_steps", ints(1, 10_000_000)),
          Map.entry("Hyperparameters.eval_steps", ints(1, 10_000_000)),
          Map.entry("Hyperparameters.save_steps", ints(1, 10_000_000)),
          Map.entry("Hyperparameters.save_total_limit", ints(0, 10_000)),
          Map.entry("Hyperparameters.max_seq_length", ints(8, 1 << 20)),
          Map.entry("Hyperparameters.neftune_noise_alpha", nonNegativeFinite()),
          Map.entry("Hyperparameters.early_stopping_patience", ints(1, 10_000)),
          Map.entry("Hyperparameters.early_stopping_threshold", nonNegativeFinite()),
          Map.entry(
              "Hyperparameters.metric_for_best_model", oneOf("eval_loss", "eval_token_accuracy")),
          Map.entry("LoraConfig.r", ints(1, 4096)),
          Map.entry("PromptLearningConfig.num_virtual_tokens", ints(1, 4096)),
          Map.entry("AdaLoraConfig.init_r", ints(1, 4096)),
          Map.entry("AdaLoraConfig.target_r", ints(1, 4096)),
          Map.entry("AdaLoraConfig.tinit", ints(0, 10_000_000)),
          Map.entry("AdaLoraConfig.tfinal", ints(0, 10_000_000)),
          Map.entry("AdaLoraConfig.delta_t", ints(1, 10_000_000)),
          Map.entry(
              "AdaLoraConfig.beta1",
              new Rule(
                  v -> v instanceof Number n && n.doubleValue() > 0 && n.doubleValue() < 1,
                  "a number in (0, 1)")),
          Map.entry(
              "AdaLoraConfig.beta2",
              new Rule(
                  v -> v instanceof Number n && n.doubleValue() > 0 && n.doubleValue() < 1,
                  "a number in (0, 1)")),
          Map.entry("AdaLoraConfig.orth_reg_weight", nonNegativeFinite()),
          Map.entry("AdaLoraConfig.total_step", ints(1, 10_000_000)),
          Map.entry("PromptLearningConfig.encoder_hidden_size", ints(1, 1 << 16)),
          Map.entry(
              "PromptLearningConfig.prompt_tuning_init", oneOf("RANDOM", "TEXT", "SAMPLE_VOCAB")),
          Map.entry("LoraConfig.lora_alpha", positiveFinite(1e6)),
          Map.entry("LoraConfig.lora_dropout", range(0, 1, true)),
          Map.entry("LoraConfig.bias", oneOf("none", "all", "lora_only")),
          Map.entry(
              "QuantizationConfig.bnb_4bit_compute_dtype", oneOf("float32", "float16", "auto")),
          Map.entry("QuantizationConfig.bnb_4bit_quant_type", oneOf("nf4")),
          Map.entry(
              "QuantizationConfig.blocksize",
              new Rule(
                  v ->
                      v instanceof Integer n
                          && Set.of(64, 128, 256, 512, 1024, 2048, 4096).contains(n),
                  "one of 64|128|256|512|1024|2048|4096 (bitsandbytes' 4-bit block sizes)")),
          Map.entry("LoraConfig.init_lora_weights", oneOf("true", "gaussian")),
          Map.entry("DatasetRef.validation_split", range(0, 1, true)),
          Map.entry("DatasetRef.test_split", range(0, 1, true)),
          Map.entry("DatasetRef.near_duplicate_threshold", range(0, 1, false)),
          Map.entry("DpoConfig.beta", positiveFinite(1e6)),
          Map.entry("DpoConfig.loss_type", oneOf("sigmoid", "ipo", "hinge")),
          Map.entry("DpoConfig.label_smoothing", range(0, 0.5, true)),
          Map.entry("DpoConfig.max_prompt_length", ints(1, 1 << 20)),
          Map.entry("PpoConfig.kl_coef", nonNegativeFinite()),
          Map.entry("PpoConfig.cliprange", positiveFinite(10)),
          Map.entry("PpoConfig.num_ppo_epochs", ints(1, 1000)),
          Map.entry("PpoConfig.temperature", positiveFinite(100)),
          Map.entry("PpoConfig.response_length", ints(1, 1 << 16)),
          Map.entry("OnlineDpoConfig.beta", positiveFinite(1e6)),
          Map.entry("OnlineDpoConfig.loss_type", oneOf("sigmoid", "ipo")),
          Map.entry("OnlineDpoConfig.max_new_tokens", ints(1, 1 << 16)),
          Map.entry("OnlineDpoConfig.temperature", positiveFinite(100)),
          Map.entry("OnlineDpoConfig.missing_eos_penalty", nonNegativeFinite()),
          Map.entry("SelfInstructConfig.target_count", ints(1, 1_000_000)),
          Map.entry("SelfInstructConfig.max_rounds", ints(1, 100_000)),
          Map.entry("SelfInstructConfig.prompts_per_round", ints(1, 1024)),
          Map.entry("SelfInstructConfig.examples_per_prompt", ints(1, 64)),
          Map.entry("SelfInstructConfig.machine_examples", ints(0, 64)),
          Map.entry("SelfInstructConfig.rouge_threshold", positiveFinite(1)),
          Map.entry("SelfInstructConfig.min_words", ints(1, 10_000)),
          Map.entry("SelfInstructConfig.max_words", ints(1, 10_000)),
          Map.entry("SelfInstructConfig.max_new_tokens", ints(1, 1 << 16)),
          Map.entry("SelfInstructConfig.temperature", nonNegativeFinite()),
          Map.entry("SelfInstructConfig.top_p", positiveFinite(1)),
          Map.entry("ConstitutionalAiConfig.max_new_tokens", ints(1, 1 << 16)),
          Map.entry("ConstitutionalAiConfig.temperature", nonNegativeFinite()),
          Map.entry("ConstitutionalAiConfig.top_p", positiveFinite(1)),
          Map.entry("BestOfNConfig.n", ints(1, 1024)),
          Map.entry("BestOfNConfig.temperature", positiveFinite(100)),
          Map.entry("BestOfNConfig.top_p", positiveFinite(1)),
          Map.entry("BestOfNConfig.max_new_tokens", ints(1, 1 << 16)),
          Map.entry("ComputeConfig.dtype", oneOf("float32", "float16")));

  private JobSpecRules() {}

  /** Throws a {@link Violation} at the first rule {@code spec} breaks. */
  public static void check(JobSpec spec) {
    // The method x adapter matrix first: an adapter type the trainer does not run is named as
    // adapter.type, before the settings block the gateway made for it.
    JobSpecCombinations.check(spec);
    walk(spec, "");
  }

  private static void walk(Message message, String prefix) {
    for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
      FieldDescriptor field = entry.getKey();
      String path = prefix + field.getName();
      String key = field.getContainingType().getName() + "." + field.getName();
      Object value = entry.getValue();
      String refused = JobSpecFields.REFUSED.get(key);
      if (refused != null) {
        throw new Violation(
            path, field, path + " is not supported: " + refused + " (leave it unset)");
      }
      if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !field.isMapField()) {
        if (!field.isRepeated()) {
          walk((Message) value, path + ".");
        }
        continue;
      }
      Rule rule = RULES.get(key);
      if (rule != null && !rule.ok().test(value)) {
        throw new Violation(
            path, field, path + " must be " + rule.requirement() + " but was " + show(value));
      }
      if (key.equals("LoraConfig.modules_to_save")) {
        for (Object module : (List<?>) value) {
          if (!module.equals("embed_tokens") && !module.equals("lm_head")) {
            throw new Violation(
                path,
                field,
                path
                    + " names \""
                    + module
                    + "\"; the modules trained in full and saved with the adapter are"
                    + " embed_tokens and lm_head");
          }
        }
      }
      if (key.equals("LoraConfig.target_modules") || key.equals("Ia3Config.target_modules")) {
        for (Object module : (List<?>) value) {
          String name = (String) module;
          boolean regex = name.matches(".*[*\\\\()|\\[\\]^$+?].*");
          // PEFT matches a listed name as the module's name or a suffix of its path
          String last = name.substring(name.lastIndexOf('.') + 1);
          if (!regex && !MODULES.contains(last)) {
            throw new Violation(
                path,
                field,
                path
                    + " names \""
                    + name
                    + "\", which no supported model has; one of "
                    + MODULES.stream().sorted().toList()
                    + " or a regular expression");
          }
        }
      }
      if (key.equals("Hyperparameters.bf16") && Boolean.TRUE.equals(value)) {
        throw new Violation(
            path,
            field,
            path
                + " true is not supported: the engine's JNI (DJL 0.36) has no bfloat16 dtype; use"
                + " fp16 or float32");
      }
    }
  }

  static String show(Object value) {
    return value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
  }

  private static String trim(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : Double.toString(value);
  }
}
