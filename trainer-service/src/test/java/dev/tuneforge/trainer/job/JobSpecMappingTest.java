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
 * an otherwise default job, it changes what the trainer runs with (the TrainSpec it reads, the DPO,
 * PPO or Best-of-N settings, the reward model). A field that changes nothing would be a field
 * dropped without a word.
 */
class JobSpecMappingTest {
  /**
   * Trainer fields this test cannot vary, each for a reason: only one value is allowed (refused
   * otherwise at create, JobSpecRulesTest), it selects the method rather than a setting, or it
   * names the model the trainer copies from the bucket.
   */
  static final Map<String, String> NOT_VARIED =
      Map.ofEntries(
          Map.entry("Hyperparameters.adam_beta1", "fixed at 0.9"),
          Map.entry("Hyperparameters.adam_beta2", "fixed at 0.999"),
          Map.entry("Hyperparameters.adam_epsilon", "fixed at 1e-8"),
          Map.entry("Hyperparameters.bf16", "only false runs"),
          Map.entry("QuantizationConfig.blocksize", "fixed at 64"),
          Map.entry("QuantizationConfig.bnb_4bit_quant_type", "nf4 only"),
          Map.entry("QuantizationConfig.load_in_4bit", "selects qlora (JobSpecs.method)"),
          Map.entry("LoraConfig.init_lora_weights", "fixed at true"),
          Map.entry("AdapterConfig.peft_type", "selects the adapter (JobSpecs.method)"),
          Map.entry("JobSpec.method", "selects the method"),
          Map.entry("ModelRef.name", "the model copied from models/{name}/"));

  /** What the trainer runs a job with, as text. */
  static String run(JobSpec raw) {
    JobSpec spec = JobSpecDefaults.resolve(raw);
    String method = JobSpecs.method(spec);
    List<String> parts = new ArrayList<>();
    parts.add(JobSpecs.trainSpecJson(spec, method, "/model", "/out", "cpu").toString());
    switch (spec.getMethod()) {
      case DPO -> parts.add(JobSpecs.dpoSettings(spec).toString());
      case REWARD_MODEL ->
          parts.add(Double.toString(spec.getRewardModel().getCenterRewardsCoefficient()));
      case PPO -> {
        parts.add(JobSpecs.ppoSettings(spec, 64).toString());
        parts.add(JobSpecs.rewardModel(spec));
      }
      case BEST_OF_N -> {
        parts.add(JobSpecs.bestOfNSettings(spec).toString());
        parts.add(JobSpecs.rewardModel(spec));
      }
      default -> {}
    }
    return String.join("\n", parts);
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
      default -> spec.setMethod(JobSpec.Method.LORA);
    }
    return spec;
  }

  /** A value other than the resolved default, valid for the field. */
  static Object sample(FieldDescriptor field, Object current) {
    String name = field.getName();
    Map<String, Object> strings =
        Map.of(
            "lr_scheduler_type", "cosine",
            "metric_for_best_model", "eval_accuracy",
            "bias", "all",
            "bnb_4bit_compute_dtype", "float16",
            "loss_type", "ipo",
            "kl_estimator", "k3",
            "reward_model", "some-rm",
            "device", "cuda:1",
            "dtype", "float16",
            "prompt_tuning_init", "SAMPLE_VOCAB");
    if (field.isRepeated()) {
      return List.of("q_proj");
    }
    return switch (field.getJavaType()) {
      case INT -> (Integer) current == 4 ? 2 : 4;
      case LONG -> (Long) current == 4L ? 2L : 4L;
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
