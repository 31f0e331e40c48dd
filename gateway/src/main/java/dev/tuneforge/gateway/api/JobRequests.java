package dev.tuneforge.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.tuneforge.platform.api.OpenAiError;
import dev.tuneforge.proto.JobSpecRules;
import dev.tuneforge.proto.v1.AdapterConfig;
import dev.tuneforge.proto.v1.DatasetRef;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.ModelRef;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns a {@code POST /v1/fine_tuning/jobs} body, shaped like OpenAI's, into a {@link JobSpec}.
 * Hyper-parameters take OpenAI's names ({@code n_epochs}, {@code batch_size}, {@code
 * learning_rate_multiplier}, "auto") and TRL's (every field of the spec's Hyperparameters and of
 * the method's config, e.g. {@code beta}, {@code kl_coef}); the adapter takes PEFT's. Anything else
 * is refused with the offending {@code param}.
 */
public final class JobRequests {
  /** The request's name of each field set while one request is read (for rule violations). */
  private static final ThreadLocal<Map<Descriptors.FieldDescriptor, String>> PARAMS =
      ThreadLocal.withInitial(java.util.HashMap::new);

  static final Set<String> FIELDS =
      Set.of(
          "model",
          "training_file",
          "validation_file",
          "method",
          "adapter",
          "hyperparameters",
          "suffix",
          "seed",
          "metadata",
          "integrations",
          "dataset",
          "eval");
  static final Pattern SUFFIX = Pattern.compile("[A-Za-z0-9_-]{0,64}");
  static final double ADAPTER_LEARNING_RATE = 2e-4;
  static final double FULL_LEARNING_RATE = 2e-5;

  /** What the caller must check against storage: the model and the files named. */
  public record Checked(JobSpec spec, String model, List<String> files) {}

  private JobRequests() {}

  /**
   * Reads the request, then checks the spec against {@link JobSpecRules}, the ranges and
   * combinations the trainer runs; a violation names the request's own field.
   */
  public static Checked toSpec(JsonNode body, String jobId, String tenant) {
    PARAMS.get().clear();
    try {
      Checked checked = read(body, jobId, tenant);
      JobSpecRules.check(checked.spec());
      return checked;
    } catch (JobSpecRules.Violation v) {
      String param =
          v.field() != null && PARAMS.get().containsKey(v.field())
              ? PARAMS.get().get(v.field())
              : requestParam(v.path());
      throw OpenAiError.invalid(param, v.getMessage().replace(v.path(), param));
    } finally {
      PARAMS.get().clear();
    }
  }

  /**
   * The request's name of a spec path the caller did not set (a required setting missing): a
   * method's own block is {@code method.<type>.hyperparameters}.
   */
  private static String requestParam(String path) {
    for (String block :
        List.of(
            "dpo",
            "ppo",
            "online_dpo",
            "reward_model",
            "best_of_n",
            "self_instruct",
            "constitutional_ai")) {
      if (path.startsWith(block + ".")) {
        return "method." + block + ".hyperparameters." + path.substring(block.length() + 1);
      }
    }
    return path;
  }

  private static Checked read(JsonNode body, String jobId, String tenant) {
    if (body == null || !body.isObject()) {
      throw OpenAiError.invalid(null, "the request body must be a JSON object");
    }
    for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!FIELDS.contains(name)) {
        throw OpenAiError.invalid(name, "unknown field \"" + name + "\"");
      }
    }
    String model = requiredString(body, "model");
    String trainingFile = requiredString(body, "training_file");
    String validationFile = optionalString(body, "validation_file");
    JsonNode method = body.path("method");
    String type = "supervised";
    if (!method.isMissingNode() && !method.isNull()) {
      if (!method.isObject()) {
        throw OpenAiError.invalid("method", "method must be an object {type, <type>: {...}}");
      }
      type = textOr(method, "type", "supervised", "method.type");
      for (Iterator<String> names = method.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!name.equals("type") && !name.equals(type)) {
          throw OpenAiError.invalid(
              "method." + name,
              "method." + name + " does not belong to method.type \"" + type + "\"");
        }
      }
    }
    JsonNode adapter = body.path("adapter");
    if (!adapter.isMissingNode() && !adapter.isNull() && !adapter.isObject()) {
      throw OpenAiError.invalid(
          "adapter", "adapter must be an object {type, ...} but was " + adapter);
    }
    if (body.has("integrations")
        && !body.get("integrations").isNull()
        && !(body.get("integrations").isArray() && body.get("integrations").isEmpty())) {
      throw OpenAiError.invalid(
          "integrations", "integrations are not supported (no Weights & Biases here)");
    }
    String adapterType = textOr(adapter, "type", "lora", "adapter.type");
    JobSpec.Builder spec =
        JobSpec.newBuilder()
            .setJobId(jobId)
            .setTenant(tenant)
            .setBaseModel(ModelRef.newBuilder().setName(model));
    DatasetRef.Builder dataset = DatasetRef.newBuilder().setTrainingFile(trainingFile);
    if (validationFile != null) {
      dataset.setValidationFile(validationFile);
    }
    boolean adapted = !adapterType.equals("full");
    spec.setMethod(method(type, adapterType, adapter.isObject()));
    switch (type) {
      case "dpo", "reward_model" -> dataset.setFormat(DatasetRef.Format.PREFERENCE);
      case "ppo", "online_dpo", "best_of_n" -> dataset.setFormat(DatasetRef.Format.PROMPT_ONLY);
      case "self_instruct", "constitutional_ai" -> {
        // every seed task or prompt is used: no held-out splits unless asked for
        dataset
            .setFormat(
                type.equals("self_instruct")
                    ? DatasetRef.Format.ALPACA
                    : DatasetRef.Format.PROMPT_ONLY)
            .setValidationSplit(0)
            .setTestSplit(0);
      }
      default -> {}
    }
    options(body, "dataset", dataset, Set.of("training_file", "validation_file"));
    options(body, "eval", spec.getEvalBuilder(), Set.of());
    spec.setDataset(dataset);
    if (adapter.isObject() || type.equals("supervised")) {
      adapter(adapter, adapterType, spec);
    }
    JsonNode hyper = method.path(type).path("hyperparameters");
    if (hyper.isMissingNode()) {
      hyper = body.path("hyperparameters"); // OpenAI's older top-level form
    }
    if (!hyper.isMissingNode() && !hyper.isNull()) {
      String path =
          method.path(type).has("hyperparameters")
              ? "method." + type + ".hyperparameters"
              : "hyperparameters";
      hyperparameters(hyper, path, type, adapted, spec);
    }
    if (body.has("suffix")) {
      String suffix = body.get("suffix").asText();
      if (!body.get("suffix").isTextual() || !SUFFIX.matcher(suffix).matches()) {
        throw OpenAiError.invalid(
            "suffix",
            "suffix must be up to 64 letters, digits, '-' or '_' but was " + body.get("suffix"));
      }
      spec.setSuffix(suffix);
    }
    if (body.has("seed") && !body.get("seed").isNull()) {
      JsonNode seed = body.get("seed");
      if (!seed.canConvertToLong() || !seed.isIntegralNumber() || seed.asLong() < 0) {
        throw OpenAiError.invalid("seed", "seed must be a non-negative integer but was " + seed);
      }
      spec.setSeed(seed.asLong());
    }
    if (body.has("metadata") && !body.get("metadata").isNull()) {
      metadata(body.get("metadata"), spec);
    }
    List<String> files = new ArrayList<>(List.of(trainingFile));
    if (validationFile != null) {
      files.add(validationFile);
    }
    return new Checked(spec.build(), model, files);
  }

  private static JobSpec.Method method(String type, String adapterType, boolean adapterGiven) {
    return switch (type) {
      case "supervised" ->
          switch (adapterType) {
            case "full" -> JobSpec.Method.FULL;
            case "lora" -> adapterGiven ? JobSpec.Method.LORA : JobSpec.Method.SFT;
            case "qlora" -> JobSpec.Method.QLORA;
            case "prefix" -> JobSpec.Method.PREFIX;
            case "prompt" -> JobSpec.Method.PROMPT;
            case "ia3" -> JobSpec.Method.IA3;
            case "adalora" -> JobSpec.Method.ADALORA;
            default ->
                throw OpenAiError.invalid(
                    "adapter.type",
                    "adapter.type \""
                        + adapterType
                        + "\" is not one of full|lora|qlora|prefix|prompt|ia3|adalora");
          };
      case "dpo" -> JobSpec.Method.DPO;
      case "ppo" -> JobSpec.Method.PPO;
      case "online_dpo" -> JobSpec.Method.ONLINE_DPO;
      case "self_instruct" -> JobSpec.Method.SELF_INSTRUCT;
      case "constitutional_ai" -> JobSpec.Method.CONSTITUTIONAL_AI;
      case "reward_model" -> JobSpec.Method.REWARD_MODEL;
      case "best_of_n" -> JobSpec.Method.BEST_OF_N;
      default ->
          throw OpenAiError.invalid(
              "method.type",
              "method.type \""
                  + type
                  + "\" is not one of"
                  + " supervised|dpo|online_dpo|ppo|reward_model|best_of_n|self_instruct|constitutional_ai");
    };
  }

  private static void adapter(JsonNode adapter, String type, JobSpec.Builder spec) {
    if (type.equals("full")) {
      if (adapter.isObject() && adapter.size() > 1) {
        throw OpenAiError.invalid("adapter", "adapter.type full takes no other settings");
      }
      return;
    }
    AdapterConfig.Builder config = AdapterConfig.newBuilder();
    List<Message.Builder> targets = new ArrayList<>();
    switch (type) {
      case "lora", "qlora" -> {
        config.setPeftType(AdapterConfig.PeftType.LORA);
        targets.add(config.getLoraBuilder());
        if (type.equals("qlora")) {
          config.getQuantizationBuilder().setLoadIn4Bit(true);
          targets.add(config.getQuantizationBuilder());
        }
      }
      case "adalora" -> {
        config.setPeftType(AdapterConfig.PeftType.ADALORA);
        targets.add(config.getAdaloraBuilder());
        targets.add(config.getLoraBuilder());
      }
      case "ia3" -> {
        config.setPeftType(AdapterConfig.PeftType.IA3);
        targets.add(config.getIa3Builder());
      }
      case "prefix", "prompt" -> {
        config.setPeftType(
            type.equals("prefix")
                ? AdapterConfig.PeftType.PREFIX_TUNING
                : AdapterConfig.PeftType.PROMPT_TUNING);
        targets.add(config.getPromptLearningBuilder());
      }
      default ->
          throw OpenAiError.invalid(
              "adapter.type",
              "adapter.type \""
                  + type
                  + "\" is not one of full|lora|qlora|prefix|prompt|ia3|adalora");
    }
    if (adapter.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> fields = adapter.fields(); fields.hasNext(); ) {
        Map.Entry<String, JsonNode> field = fields.next();
        if (field.getKey().equals("type")) {
          continue;
        }
        JsonNode value = field.getValue();
        if (field.getKey().equals("target_modules") && value.isTextual()) {
          value =
              value.textValue().equals("all-linear")
                  ? com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
                      .arrayNode()
                      .add("all-linear")
                  : com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
                      .arrayNode()
                      .add(value);
        }
        // PEFT spells AdaLoRA's interval deltaT; the proto field is delta_t.
        String name = field.getKey().equals("deltaT") ? "delta_t" : field.getKey();
        set(targets, name, value, "adapter." + field.getKey(), "adapter");
      }
    }
    spec.setAdapter(config);
  }

  private static void hyperparameters(
      JsonNode hyper, String path, String type, boolean adapted, JobSpec.Builder spec) {
    if (!hyper.isObject()) {
      throw OpenAiError.invalid(path, path + " must be an object");
    }
    List<Message.Builder> targets = new ArrayList<>();
    targets.add(spec.getHyperparametersBuilder());
    switch (type) {
      case "dpo" -> targets.add(spec.getDpoBuilder());
      case "ppo" -> targets.add(spec.getPpoBuilder());
      case "online_dpo" -> targets.add(spec.getOnlineDpoBuilder());
      case "self_instruct" -> targets.add(spec.getSelfInstructBuilder());
      case "constitutional_ai" -> targets.add(spec.getConstitutionalAiBuilder());
      case "reward_model" -> targets.add(spec.getRewardModelBuilder());
      case "best_of_n" -> targets.add(spec.getBestOfNBuilder());
      default -> {}
    }
    for (Iterator<Map.Entry<String, JsonNode>> fields = hyper.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      String name = field.getKey();
      JsonNode value = field.getValue();
      String param = path + "." + name;
      if (value.isTextual() && value.textValue().equals("auto")) {
        continue; // OpenAI's "auto": the default
      }
      switch (name) {
        case "n_epochs" -> set(targets, "num_train_epochs", value, param, path);
        case "batch_size" -> set(targets, "per_device_train_batch_size", value, param, path);
        case "learning_rate_multiplier" -> {
          if (!value.isNumber() || !(value.asDouble() > 0)) {
            throw OpenAiError.invalid(param, param + " must be a number > 0 but was " + value);
          }
          double base = adapted ? ADAPTER_LEARNING_RATE : FULL_LEARNING_RATE;
          spec.getHyperparametersBuilder().setLearningRate(base * value.asDouble());
        }
        default -> set(targets, name, value, param, path);
      }
    }
  }

  /**
   * Sets the fields of the object {@code body.name} on {@code target} by their proto names; {@code
   * topLevel} fields must be given at the top level instead.
   */
  private static void options(
      JsonNode body, String name, Message.Builder target, Set<String> topLevel) {
    JsonNode options = body.path(name);
    if (options.isMissingNode() || options.isNull()) {
      return;
    }
    if (!options.isObject()) {
      throw OpenAiError.invalid(name, name + " must be an object of " + name + " options");
    }
    for (Iterator<Map.Entry<String, JsonNode>> fields = options.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      if (topLevel.contains(field.getKey())) {
        throw OpenAiError.invalid(
            name + "." + field.getKey(), "give " + field.getKey() + " at the top level");
      }
      set(List.of(target), field.getKey(), field.getValue(), name + "." + field.getKey(), name);
    }
  }

  /** Sets {@code name} on the first target message that has such a field, type-checked. */
  private static void set(
      List<Message.Builder> targets, String name, JsonNode value, String param, String where) {
    for (Message.Builder target : targets) {
      Descriptors.FieldDescriptor field = target.getDescriptorForType().findFieldByName(name);
      if (field == null) {
        continue;
      }
      PARAMS.get().put(field, param);
      ObjectNode single = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
      single.set(name, value);
      try {
        JsonFormat.parser().merge(single.toString(), target);
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        throw OpenAiError.invalid(
            param, param + " must be " + expected(field) + " but was " + value);
      }
      return;
    }
    throw OpenAiError.invalid(param, "unknown setting \"" + name + "\" in " + where);
  }

  private static String expected(Descriptors.FieldDescriptor field) {
    String kind =
        switch (field.getJavaType()) {
          case INT, LONG -> "an integer";
          case FLOAT, DOUBLE -> "a number";
          case BOOLEAN -> "true or false";
          case STRING -> "a string";
          default -> "a " + field.getJavaType().name().toLowerCase(java.util.Locale.ROOT);
        };
    return field.isRepeated() ? "a list of " + kind.replaceFirst("^an? ", "") + "s" : kind;
  }

  private static void metadata(JsonNode metadata, JobSpec.Builder spec) {
    if (!metadata.isObject() || metadata.size() > 16) {
      throw OpenAiError.invalid("metadata", "metadata must be an object of at most 16 pairs");
    }
    for (Iterator<Map.Entry<String, JsonNode>> fields = metadata.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      if (field.getKey().length() > 64
          || !field.getValue().isTextual()
          || field.getValue().textValue().length() > 512) {
        throw OpenAiError.invalid(
            "metadata." + field.getKey(),
            "metadata keys are up to 64 characters and values strings of up to 512");
      }
      spec.putMetadata(field.getKey(), field.getValue().textValue());
    }
  }

  /**
   * {@code node.field} as a string, {@code fallback} when absent; null or a non-string is refused.
   */
  private static String textOr(JsonNode node, String field, String fallback, String param) {
    if (!node.isObject() || !node.has(field)) {
      return fallback;
    }
    JsonNode value = node.get(field);
    if (!value.isTextual()) {
      throw OpenAiError.invalid(param, param + " must be a string but was " + value);
    }
    return value.textValue();
  }

  private static String requiredString(JsonNode body, String field) {
    JsonNode value = body.get(field);
    if (value == null || value.isNull()) {
      throw OpenAiError.invalid(field, field + " is required");
    }
    if (!value.isTextual() || value.textValue().isBlank()) {
      throw OpenAiError.invalid(field, field + " must be a non-empty string but was " + value);
    }
    return value.textValue();
  }

  private static String optionalString(JsonNode body, String field) {
    JsonNode value = body.get(field);
    return value == null || value.isNull() ? null : requiredString(body, field);
  }
}
