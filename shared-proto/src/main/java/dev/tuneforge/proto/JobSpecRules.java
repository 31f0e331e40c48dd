package dev.tuneforge.proto;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.tuneforge.proto.v1.AdapterConfig;
import dev.tuneforge.proto.v1.JobSpec;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The ranges a job spec must keep, in one place: the gateway refuses a request against them at
 * create time and data-service a spec published straight to Kafka, so the trainer never fails on a
 * value it could not run. Each set field of the spec's settings is checked against its rule (the
 * trainer's own, and sanity bounds such as a learning rate of at most 1), then the combination: the
 * method × adapter matrix, and settings the trainer does not implement yet, which are refused by
 * name instead of ignored.
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
          Map.entry("BestOfNConfig.n", ints(1, 1024)),
          Map.entry("BestOfNConfig.temperature", positiveFinite(100)),
          Map.entry("BestOfNConfig.top_p", positiveFinite(1)),
          Map.entry("BestOfNConfig.max_new_tokens", ints(1, 1 << 16)),
          Map.entry("ComputeConfig.dtype", oneOf("float32", "float16")));

  private JobSpecRules() {}

  /**
   * The first hyper-parameter of {@code h} that only supervised fine-tuning acts on and that is set
   * to do something (packing, gradient checkpointing, fp16, grouping by length, best-model restore,
   * assistant-only loss, NEFTune, early stopping), or empty: DPO, reward models and PPO would
   * ignore it, so it is refused for them instead.
   */
  public static java.util.Optional<String> sftOnlySetting(
      dev.tuneforge.proto.v1.Hyperparameters h) {
    if (h.getPacking()) return java.util.Optional.of("packing");
    if (h.getGradientCheckpointing()) return java.util.Optional.of("gradient_checkpointing");
    if (h.getFp16()) return java.util.Optional.of("fp16");
    if (h.getGroupByLength()) return java.util.Optional.of("group_by_length");
    if (h.getLoadBestModelAtEnd()) return java.util.Optional.of("load_best_model_at_end");
    if (h.getAssistantOnlyLoss()) return java.util.Optional.of("assistant_only_loss");
    if (h.getNeftuneNoiseAlpha() > 0) return java.util.Optional.of("neftune_noise_alpha");
    if (h.getEarlyStoppingPatience() > 0) return java.util.Optional.of("early_stopping_patience");
    return java.util.Optional.empty();
  }

  /** Throws a {@link Violation} at the first rule {@code spec} breaks. */
  public static void check(JobSpec spec) {
    // The method x adapter matrix first: an adapter type the trainer does not run is named as
    // adapter.type, before the settings block the gateway made for it.
    combination(spec);
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

  /** The method × adapter matrix: what the trainer runs. */
  private static void combination(JobSpec spec) {
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
    if (method == JobSpec.Method.DPO
        || method == JobSpec.Method.REWARD_MODEL
        || method == JobSpec.Method.PPO) {
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
    java.util.Map<JobSpec.Method, List<String>> takes =
        java.util.Map.of(
            // the same matrix as llm-core's TrainingJob (MethodAdapterMatrixTest holds them equal)
            JobSpec.Method.DPO, List.of("lora", "qlora", "ia3", "prompt", "prefix", "adalora"),
            JobSpec.Method.REWARD_MODEL, List.of("lora", "ia3", "adalora"),
            JobSpec.Method.PPO, List.of("lora", "qlora", "ia3", "prompt", "prefix", "adalora"),
            JobSpec.Method.BEST_OF_N,
                List.of("lora", "qlora", "ia3", "prompt", "prefix", "adalora"));
    List<String> allowed = takes.get(method);
    if (allowed != null
        && spec.hasAdapter()
        && type != AdapterConfig.PeftType.PEFT_TYPE_UNSPECIFIED) {
      String name =
          type == AdapterConfig.PeftType.LORA && JobSpecDefaults.quantized(spec)
              ? "qlora"
              : type.name().toLowerCase(java.util.Locale.ROOT).replace("_tuning", "");
      if (!allowed.contains(name)) {
        String why =
            method == JobSpec.Method.REWARD_MODEL && name.equals("qlora")
                ? " (a reward model is saved merged, and an NF4 base does not merge)"
                : method == JobSpec.Method.REWARD_MODEL
                        && (name.equals("prompt") || name.equals("prefix"))
                    ? " (sequence classification with virtual tokens is not implemented)"
                    : "";
        throw new Violation(
            "adapter.type",
            null,
            "adapter.type "
                + name
                + " is not available with method "
                + method.name().toLowerCase(java.util.Locale.ROOT)
                + why
                + "; use full or one of "
                + String.join(", ", allowed));
      }
    }
  }

  /**
   * AdaLoRA's own rules: of the LoRA settings only lora_alpha, lora_dropout and target_modules
   * (init_r is the rank), target_r at most init_r, a schedule that leaves steps for the budget to
   * fall, and no fp16 (the rank allocation reads float32 tensors).
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
    if (spec.getHyperparameters().getFp16()) {
      throw new Violation(
          "hyperparameters.fp16",
          dev.tuneforge.proto.v1.Hyperparameters.getDescriptor().findFieldByName("fp16"),
          "hyperparameters.fp16 is not available with AdaLoRA yet (its rank allocation reads"
              + " float32 tensors); leave fp16 off");
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

  private static boolean equal(Object fixed, Object value) {
    if (fixed instanceof Number a && value instanceof Number b) {
      return a.doubleValue() == b.doubleValue();
    }
    return fixed.equals(value);
  }

  private static String show(Object value) {
    return value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
  }

  private static String trim(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : Double.toString(value);
  }
}
