package dev.tuneforge.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneforge.proto.JobSpecCombinations;
import dev.tuneforge.proto.JobSpecDefaults;
import dev.tuneforge.proto.JobSpecRules;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.AdapterConfig;
import dev.tuneforge.proto.v1.JobSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gateway accepts exactly the method x adapter pairs the trainer runs: for every training
 * method and every adapter (none, LoRA, QLoRA, IA3, prompt, prefix, AdaLoRA), the create-time rules
 * ({@link JobSpecRules}) accept the job if and only if the trainer's typed job ({@link
 * JobSpecs#toTrainingJob}, whose constructor refuses what no run implements) can be made.
 */
class MethodAdapterMatrixTest {
  static final List<JobSpec.Method> METHODS =
      List.of(
          JobSpec.Method.SFT,
          JobSpec.Method.DPO,
          JobSpec.Method.REWARD_MODEL,
          JobSpec.Method.PPO,
          JobSpec.Method.BEST_OF_N);

  static final List<String> ADAPTERS =
      List.of("none", "lora", "qlora", "ia3", "prompt", "prefix", "adalora");

  static JobSpec job(JobSpec.Method method, String adapter) {
    JobSpec.Builder spec =
        SampleEvents.jobSpec("matrix").toBuilder().setMethod(method).clearAdapter();
    spec.getHyperparametersBuilder().setPacking(false);
    if (method == JobSpec.Method.PPO) {
      spec.getPpoBuilder().setRewardModel("rm");
    }
    if (method == JobSpec.Method.BEST_OF_N) {
      spec.getBestOfNBuilder().setRewardModel("rm");
    }
    AdapterConfig.Builder a = spec.getAdapterBuilder();
    switch (adapter) {
      case "none" -> {
        if (method == JobSpec.Method.SFT) {
          spec.setMethod(JobSpec.Method.FULL);
        }
        spec.clearAdapter();
      }
      case "lora" -> a.setPeftType(AdapterConfig.PeftType.LORA);
      case "qlora" ->
          a.setPeftType(AdapterConfig.PeftType.LORA).getQuantizationBuilder().setLoadIn4Bit(true);
      case "ia3" -> a.setPeftType(AdapterConfig.PeftType.IA3);
      case "prompt" -> a.setPeftType(AdapterConfig.PeftType.PROMPT_TUNING);
      case "prefix" -> a.setPeftType(AdapterConfig.PeftType.PREFIX_TUNING);
      case "adalora" -> a.setPeftType(AdapterConfig.PeftType.ADALORA);
      default -> throw new IllegalArgumentException(adapter);
    }
    return spec.build();
  }

  /** Why the trainer cannot make the typed job of {@code spec}; null when it can. */
  static String trainerRefusal(JobSpec spec) {
    try {
      JobSpecs.toTrainingJob(
          JobSpecDefaults.resolve(spec),
          JobSpecMappingTest.inputs(),
          JobSpecMappingTest.NamedReward::new);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  @Test
  void theGatewayAcceptsExactlyWhatTheTrainerRuns() {
    List<String> mismatches = new ArrayList<>();
    List<String> runs = new ArrayList<>();
    for (JobSpec.Method method : METHODS) {
      for (String adapter : ADAPTERS) {
        JobSpec spec = job(method, adapter);
        String gateway = null;
        try {
          JobSpecRules.check(spec);
        } catch (JobSpecRules.Violation e) {
          gateway = e.getMessage();
        }
        String trainer = trainerRefusal(spec);
        String pair = method + " x " + adapter;
        if ((gateway == null) != (trainer == null)) {
          mismatches.add(
              pair
                  + ": gateway "
                  + (gateway == null ? "accepts" : "refuses (" + gateway + ")")
                  + ", trainer "
                  + (trainer == null ? "runs" : "refuses (" + trainer + ")"));
        } else if (gateway == null) {
          runs.add(pair);
        }
      }
    }
    System.out.println("method x adapter pairs that run: " + runs);
    assertEquals(List.of(), mismatches);
  }

  /**
   * Settings only supervised fine-tuning acts on are refused for DPO, reward models and PPO by the
   * gateway and by the trainer alike (they would be ignored), and accepted for SFT and Best-of-N
   * (whose second phase is SFT).
   */
  @Test
  void sftOnlySettingsAreRefusedWhereTheyWouldBeIgnored() {
    assertEquals(
        dev.tuneforge.llm.run.MethodSettings.SFT_ONLY,
        JobSpecCombinations.SFT_ONLY,
        "the gateway refuses the settings the engine names SFT's");
    var fields = dev.tuneforge.proto.v1.Hyperparameters.getDescriptor();
    List<java.util.function.Consumer<dev.tuneforge.proto.v1.Hyperparameters.Builder>> settings =
        dev.tuneforge.llm.run.MethodSettings.SFT_ONLY.stream()
            .map(fields::findFieldByName)
            .<java.util.function.Consumer<dev.tuneforge.proto.v1.Hyperparameters.Builder>>map(
                field ->
                    h ->
                        h.setField(
                            field,
                            field.getJavaType()
                                    == com.google.protobuf.Descriptors.FieldDescriptor.JavaType
                                        .BOOLEAN
                                ? (Object) true
                                : field.getJavaType()
                                        == com.google.protobuf.Descriptors.FieldDescriptor.JavaType
                                            .INT
                                    ? (Object) 2
                                    : (Object) 5.0))
            .toList();
    for (JobSpec.Method method : METHODS) {
      boolean sft = method == JobSpec.Method.SFT || method == JobSpec.Method.BEST_OF_N;
      for (var setting : settings) {
        JobSpec.Builder builder = job(method, "lora").toBuilder();
        setting.accept(builder.getHyperparametersBuilder());
        JobSpec spec = builder.build();
        boolean gateway = true;
        try {
          JobSpecRules.check(spec);
        } catch (JobSpecRules.Violation e) {
          gateway = false;
          assertEquals(
              true, e.getMessage().contains("is supervised fine-tuning's"), e.getMessage());
        }
        boolean trainer = trainerRefusal(spec) == null;
        assertEquals(sft, gateway, method + " " + spec.getHyperparameters() + " at the gateway");
        assertEquals(sft, trainer, method + " " + spec.getHyperparameters() + " in the trainer");
      }
    }
  }
}
