package dev.tuneforge.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.tuneforge.proto.JobSpecDefaults;
import dev.tuneforge.proto.JobSpecFields;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.AdapterConfig;
import dev.tuneforge.proto.v1.JobSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every field {@link JobSpecFields} gives to the trainer reaches the run: set to another value on
 * an otherwise default job, it changes the {@link dev.tuneforge.llm.run.TrainingJob} the trainer
 * runs (its settings records, the reward model it is scored by). A field that changes nothing would
 * be a field dropped without a word.
 */
class JobSpecMappingTest {
  /**
   * Trainer fields this test cannot vary, each for a reason: only one value is allowed (refused
   * otherwise at create, JobSpecRulesTest), it selects the method rather than a setting, or it
   * names the model the trainer copies from the bucket.
   */
  static final Map<String, String> NOT_VARIED =
      Map.ofEntries(
          Map.entry("Hyperparameters.bf16", "only false runs"),
          Map.entry("QuantizationConfig.bnb_4bit_quant_type", "nf4 only"),
          Map.entry("QuantizationConfig.load_in_4bit", "selects qlora (JobSpecs.method)"),
          Map.entry("AdapterConfig.peft_type", "selects the adapter (JobSpecs.method)"),
          Map.entry("JobSpec.method", "selects the method"),
          Map.entry("ModelRef.name", "the model copied from models/{name}/"));

  /** A reward known by its name, so the run's text names the reward model it is scored by. */
  record NamedReward(String name) implements dev.tuneforge.llm.rl.TextReward {
    @Override
    public double[] score(List<String> prompts, List<String> responses) {
      throw new UnsupportedOperationException("not scored in this test");
    }
  }

  /** A base model directory: IA3's default targets come from its config.json's model_type. */
  static final java.nio.file.Path MODEL = model();

  private static java.nio.file.Path model() {
    try {
      java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("mapping-model");
      java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\"}");
      dir.toFile().deleteOnExit();
      dir.resolve("config.json").toFile().deleteOnExit();
      return dir;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Inputs on this replica for a job that is mapped, not run. */
  static JobSpecs.Inputs inputs() {
    return new JobSpecs.Inputs(
        MODEL,
        java.nio.file.Path.of("/train.jsonl"),
        null,
        java.nio.file.Path.of("/out"),
        null,
        "cpu",
        64,
        MODEL);
  }

  /** What the trainer runs a job with: the whole typed job, as text (records all the way down). */
  static String run(JobSpec raw) {
    JobSpec spec = JobSpecDefaults.resolve(raw);
    return JobSpecs.toTrainingJob(spec, inputs(), NamedReward::new).toString();
  }

  /** A job of the method whose settings hold {@code type}'s fields. */
  static JobSpec.Builder base(Descriptor type) {
    JobSpec.Builder spec = SampleEvents.jobSpec("mapping-job").toBuilder().clearAdapter();
    switch (type.getName()) {
      case "LoraConfig" ->
          spec.setMethod(JobSpec.Method.LORA)
              .getAdapterBuilder()
              .setPeftType(AdapterConfig.PeftType.LORA);
      case "QuantizationConfig" -> {
        spec.setMethod(JobSpec.Method.QLORA)
            .getAdapterBuilder()
            .setPeftType(AdapterConfig.PeftType.LORA)
            .getQuantizationBuilder()
            .setLoadIn4Bit(true);
      }
      case "Ia3Config" ->
          spec.setMethod(JobSpec.Method.IA3)
              .getAdapterBuilder()
              .setPeftType(AdapterConfig.PeftType.IA3);
      case "AdaLoraConfig" ->
          spec.setMethod(JobSpec.Method.ADALORA)
              .getAdapterBuilder()
              .setPeftType(AdapterConfig.PeftType.ADALORA);
      case "PromptLearningConfig" ->
          spec.setMethod(JobSpec.Method.PROMPT)
              .setHyperparameters(spec.getHyperparameters().toBuilder().setPacking(false))
              .getAdapterBuilder()
              .setPeftType(AdapterConfig.PeftType.PROMPT_TUNING)
              .getPromptLearningBuilder()
              .setPromptTuningInit("TEXT")
              .setPromptTuningInitText("Answer");
      case "ComputeConfig" ->
          spec.setMethod(JobSpec.Method.LORA)
              .getAdapterBuilder()
              .setPeftType(AdapterConfig.PeftType.LORA);
      case "DpoConfig" -> spec.setMethod(JobSpec.Method.DPO);
      case "RewardModelConfig" -> spec.setMethod(JobSpec.Method.REWARD_MODEL);
      case "PpoConfig" -> spec.setMethod(JobSpec.Method.PPO).getPpoBuilder().setRewardModel("rm");
      case "BestOfNConfig" ->
          spec.setMethod(JobSpec.Method.BEST_OF_N).getBestOfNBuilder().setRewardModel("rm");
      case "OnlineDpoConfig" ->
          spec.setMethod(JobSpec.Method.ONLINE_DPO).getOnlineDpoBuilder().setRewardModel("rm");
      case "SelfInstructConfig" -> spec.setMethod(JobSpec.Method.SELF_INSTRUCT);
      case "ConstitutionalAiConfig" -> spec.setMethod(JobSpec.Method.CONSTITUTIONAL_AI);
      case "Principle" ->
          spec.setMethod(JobSpec.Method.CONSTITUTIONAL_AI)
              .getConstitutionalAiBuilder()
              .addPrinciples(
                  dev.tuneforge.proto.v1.Principle.newBuilder()
                      .setName("honest")
                      .setCritiqueRequest("Find what is false.")
                      .setRevisionRequest("Make it true."));
      default -> spec.setMethod(JobSpec.Method.LORA);
    }
    if (spec.getMethod() == JobSpec.Method.DPO
        || spec.getMethod() == JobSpec.Method.REWARD_MODEL
        || spec.getMethod() == JobSpec.Method.PPO
        || spec.getMethod() == JobSpec.Method.ONLINE_DPO) {
      spec.getHyperparametersBuilder().setPacking(false); // SFT's, refused for these methods
    }
    if (spec.getMethod() == JobSpec.Method.SELF_INSTRUCT
        || spec.getMethod() == JobSpec.Method.CONSTITUTIONAL_AI) {
      spec.clearHyperparameters(); // generation trains nothing: refused at create
    }
    return spec;
  }

  /** A value other than the resolved default, valid for the field. */
  static Object sample(FieldDescriptor field, Object current) {
    String name = field.getName();
    Map<String, Object> strings =
        Map.ofEntries(
            Map.entry("lr_scheduler_type", "cosine"),
            Map.entry("metric_for_best_model", "eval_token_accuracy"),
            Map.entry("bias", "all"),
            Map.entry("bnb_4bit_compute_dtype", "float16"),
            Map.entry("loss_type", "ipo"),
            Map.entry("kl_estimator", "k3"),
            Map.entry("reward_model", "some-rm"),
            Map.entry("judge_template", "Better, 0 or 1? {prompt}\n0: {first}\n1: {second}"),
            Map.entry("device", "cuda:1"),
            Map.entry("dtype", "float16"),
            Map.entry("prompt_tuning_init", "SAMPLE_VOCAB"),
            Map.entry("init_lora_weights", "gaussian"));
    if (field.isRepeated()) {
      return List.of(
          switch (name) {
            case "modules_to_save" -> "lm_head";
            case "feedforward_modules" -> "v_proj"; // one of the default IA3 targets
            default -> "q_proj";
          });
    }
    if (name.equals("init_r")) {
      return (Integer) current + 4; // at least target_r, as AdaLoRA needs
    }
    if (name.equals("blocksize")) {
      return (Integer) current == 128 ? 256 : 128; // bitsandbytes' block sizes only
    }
    return switch (field.getJavaType()) {
      case INT -> (Integer) current < 1 ? 4 : (Integer) current + 1;
      case LONG -> (Long) current < 1 ? 4L : (Long) current + 1;
      case DOUBLE -> (Double) current == 0.37 ? 0.21 : 0.37;
      case BOOLEAN -> !(Boolean) current;
      case STRING -> {
        Object chosen = strings.getOrDefault(name, "x-" + name);
        yield chosen.equals(current)
            ? (name.equals("lr_scheduler_type") ? "constant" : "y-" + name)
            : chosen;
      }
      default -> throw new IllegalArgumentException("no sample for " + field.getFullName());
    };
  }

  @Test
  void everyTrainerFieldChangesTheRun() {
    List<String> varied = new ArrayList<>();
    TreeSet<String> dropped = new TreeSet<>();
    for (Map.Entry<String, JobSpecFields.Use> entry : JobSpecFields.USES.entrySet()) {
      String key = entry.getKey();
      if (entry.getValue() != JobSpecFields.Use.TRAINER || NOT_VARIED.containsKey(key)) {
        continue;
      }
      String message = key.substring(0, key.indexOf('.'));
      String fieldName = key.substring(key.indexOf('.') + 1);
      Descriptor type = descriptor(message);
      FieldDescriptor field = type.findFieldByName(fieldName);
      if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        continue; // a container: its own fields are checked one by one
      }
      JobSpec.Builder spec = base(type);
      if (fieldName.equals("prefix_projection") || fieldName.equals("encoder_hidden_size")) {
        // prefix tuning's own fields (refused for prompt tuning at create)
        spec.setMethod(JobSpec.Method.PREFIX)
            .getAdapterBuilder()
            .setPeftType(AdapterConfig.PeftType.PREFIX_TUNING)
            .getPromptLearningBuilder()
            .clearPromptTuningInit()
            .clearPromptTuningInitText()
            .setPrefixProjection(fieldName.equals("encoder_hidden_size"));
      }
      if (fieldName.equals("judge_template")) {
        spec.getOnlineDpoBuilder().clearRewardModel().setJudgeModel("judge"); // its judge's
      }
      String before = run(spec.build());
      Message.Builder holder = holder(spec, type);
      Message resolved = resolvedHolder(JobSpecDefaults.resolve(spec.build()), type);
      Object value = sample(field, resolved.getField(field));
      if (field.isRepeated()) {
        holder.clearField(field);
        for (Object item : (List<?>) value) {
          holder.addRepeatedField(field, item);
        }
      } else {
        holder.setField(field, value);
      }
      if (fieldName.equals("judge_model")) {
        holder.clearField(type.findFieldByName("reward_model")); // one judge or the other
      }
      if (fieldName.equals("prompt_tuning_init")) {
        // the init text belongs to TEXT only (refused otherwise at create)
        holder.clearField(type.findFieldByName("prompt_tuning_init_text"));
      }
      // the varied job is one the gateway accepts: what create lets through, the trainer maps
      dev.tuneforge.proto.JobSpecRules.check(spec.build());
      String after = run(spec.build());
      if (before.equals(after)) {
        dropped.add(key);
      }
      varied.add(key);
    }
    assertEquals(new TreeSet<>(), dropped, "trainer fields that change nothing in the run");
    assertNotEquals(0, varied.size());
    System.out.println("trainer fields varied: " + varied.size());
  }

  static Descriptor descriptor(String message) {
    return switch (message) {
      case "JobSpec" -> JobSpec.getDescriptor();
      case "Hyperparameters" -> dev.tuneforge.proto.v1.Hyperparameters.getDescriptor();
      case "LoraConfig" -> dev.tuneforge.proto.v1.LoraConfig.getDescriptor();
      case "QuantizationConfig" -> dev.tuneforge.proto.v1.QuantizationConfig.getDescriptor();
      case "Ia3Config" -> dev.tuneforge.proto.v1.Ia3Config.getDescriptor();
      case "DpoConfig" -> dev.tuneforge.proto.v1.DpoConfig.getDescriptor();
      case "PpoConfig" -> dev.tuneforge.proto.v1.PpoConfig.getDescriptor();
      case "RewardModelConfig" -> dev.tuneforge.proto.v1.RewardModelConfig.getDescriptor();
      case "BestOfNConfig" -> dev.tuneforge.proto.v1.BestOfNConfig.getDescriptor();
      case "OnlineDpoConfig" -> dev.tuneforge.proto.v1.OnlineDpoConfig.getDescriptor();
      case "SelfInstructConfig" -> dev.tuneforge.proto.v1.SelfInstructConfig.getDescriptor();
      case "ConstitutionalAiConfig" ->
          dev.tuneforge.proto.v1.ConstitutionalAiConfig.getDescriptor();
      case "Principle" -> dev.tuneforge.proto.v1.Principle.getDescriptor();
      case "PromptLearningConfig" -> dev.tuneforge.proto.v1.PromptLearningConfig.getDescriptor();
      case "AdaLoraConfig" -> dev.tuneforge.proto.v1.AdaLoraConfig.getDescriptor();
      case "ComputeConfig" -> dev.tuneforge.proto.v1.ComputeConfig.getDescriptor();
      case "AdapterConfig" -> AdapterConfig.getDescriptor();
      case "ModelRef" -> dev.tuneforge.proto.v1.ModelRef.getDescriptor();
      default -> throw new IllegalArgumentException("unknown message " + message);
    };
  }

  /** The builder inside {@code spec} that holds {@code type}'s fields. */
  static Message.Builder holder(JobSpec.Builder spec, Descriptor type) {
    return switch (type.getName()) {
      case "JobSpec" -> spec;
      case "Hyperparameters" -> spec.getHyperparametersBuilder();
      case "LoraConfig" -> spec.getAdapterBuilder().getLoraBuilder();
      case "QuantizationConfig" -> spec.getAdapterBuilder().getQuantizationBuilder();
      case "Ia3Config" -> spec.getAdapterBuilder().getIa3Builder();
      case "DpoConfig" -> spec.getDpoBuilder();
      case "PpoConfig" -> spec.getPpoBuilder();
      case "RewardModelConfig" -> spec.getRewardModelBuilder();
      case "BestOfNConfig" -> spec.getBestOfNBuilder();
      case "OnlineDpoConfig" -> spec.getOnlineDpoBuilder();
      case "SelfInstructConfig" -> spec.getSelfInstructBuilder();
      case "ConstitutionalAiConfig" -> spec.getConstitutionalAiBuilder();
      case "Principle" -> spec.getConstitutionalAiBuilder().getPrinciplesBuilder(0);
      case "PromptLearningConfig" -> spec.getAdapterBuilder().getPromptLearningBuilder();
      case "AdaLoraConfig" -> spec.getAdapterBuilder().getAdaloraBuilder();
      case "ComputeConfig" -> spec.getComputeBuilder();
      default -> throw new IllegalArgumentException("no holder for " + type.getName());
    };
  }

  static Message resolvedHolder(JobSpec spec, Descriptor type) {
    JobSpec.Builder builder = spec.toBuilder();
    return holder(builder, type).build();
  }
}
