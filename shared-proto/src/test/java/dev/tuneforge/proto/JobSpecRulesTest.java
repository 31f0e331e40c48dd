package dev.tuneforge.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tuneforge.proto.v1.JobSpec;
import org.junit.jupiter.api.Test;

class JobSpecRulesTest {
  static JobSpec withModules(String... modules) {
    JobSpec.Builder spec = SampleEvents.jobSpec("j").toBuilder();
    spec.getAdapterBuilder().getLoraBuilder().clearTargetModules();
    for (String module : modules) {
      spec.getAdapterBuilder().getLoraBuilder().addTargetModules(module);
    }
    return spec.build();
  }

  /**
   * target_modules take what PEFT takes: module names, path suffixes of them and regular
   * expressions; a name no supported model has is refused by name.
   */
  @Test
  void targetModulesAreTheNamesPeftMatches() {
    JobSpecRules.check(withModules("q_proj", "self_attn.v_proj", "layers.0.mlp.down_proj"));
    JobSpecRules.check(withModules(".*(q|v)_proj"));
    JobSpecRules.check(withModules("q_proj|k_proj"));
    JobSpecRules.Violation v =
        assertThrows(
            JobSpecRules.Violation.class, () -> JobSpecRules.check(withModules("qq_proj")));
    assertEquals("adapter.lora.target_modules", v.path());
  }

  private static String refusal(JobSpec spec) {
    return assertThrows(JobSpecRules.Violation.class, () -> JobSpecRules.check(spec)).path();
  }

  /**
   * What the trainer would refuse once the typed job is built is refused here first, by field: a
   * half-precision base for anything but LoRA, IA3 feed-forward modules that are not targets,
   * modules_to_save other than embed_tokens and lm_head, a best-model metric evaluation does not
   * report, and AdamW or NF4 settings out of their range.
   */
  @Test
  void whatTheTrainerRefusesIsRefusedAtCreate() {
    JobSpec.Builder loraJob = SampleEvents.jobSpec("j").toBuilder().setMethod(JobSpec.Method.LORA);
    loraJob.getAdapterBuilder().clearQuantization();
    JobSpec lora = loraJob.build();
    JobSpec.Builder half = lora.toBuilder();
    half.getComputeBuilder().setDtype("float16");
    JobSpecRules.check(half.build()); // LoRA over a float16 base runs
    JobSpec.Builder fullHalf = half.clone().setMethod(JobSpec.Method.FULL).clearAdapter();
    assertEquals("compute.dtype", refusal(fullHalf.build()));
    JobSpec.Builder qloraHalf = half.clone().setMethod(JobSpec.Method.QLORA);
    qloraHalf.getAdapterBuilder().getQuantizationBuilder().setLoadIn4Bit(true);
    assertEquals("compute.dtype", refusal(qloraHalf.build()));

    JobSpec.Builder ia3 = lora.toBuilder().setMethod(JobSpec.Method.IA3).clearAdapter();
    ia3.getHyperparametersBuilder().setPacking(false);
    ia3.getAdapterBuilder().getIa3Builder().addFeedforwardModules("down_proj");
    JobSpecRules.check(ia3.build());
    JobSpec.Builder ia3Bad = ia3.clone();
    ia3Bad
        .getAdapterBuilder()
        .getIa3Builder()
        .clearFeedforwardModules()
        .addFeedforwardModules("up_proj");
    assertEquals("adapter.feedforward_modules", refusal(ia3Bad.build()));
    ia3Bad.getAdapterBuilder().getIa3Builder().addTargetModules("up_proj");
    JobSpecRules.check(ia3Bad.build()); // a listed target may be a feed-forward module

    JobSpec.Builder saved = lora.toBuilder();
    saved.getAdapterBuilder().getLoraBuilder().addModulesToSave("q_proj");
    assertEquals("adapter.lora.modules_to_save", refusal(saved.build()));

    JobSpec.Builder metric = lora.toBuilder();
    metric.getHyperparametersBuilder().setMetricForBestModel("eval_accuracy");
    assertEquals("hyperparameters.metric_for_best_model", refusal(metric.build()));

    JobSpec.Builder adam = lora.toBuilder();
    adam.getHyperparametersBuilder().setAdamBeta1(0.8).setAdamBeta2(0.95).setAdamEpsilon(1e-6);
    JobSpecRules.check(adam.build());
    adam.getHyperparametersBuilder().setAdamBeta2(1.0);
    assertEquals("hyperparameters.adam_beta2", refusal(adam.build()));

    JobSpec.Builder blocks = SampleEvents.jobSpec("j").toBuilder().setMethod(JobSpec.Method.QLORA);
    blocks.getAdapterBuilder().getQuantizationBuilder().setBlocksize(128);
    JobSpecRules.check(blocks.build());
    blocks.getAdapterBuilder().getQuantizationBuilder().setBlocksize(100);
    assertEquals("adapter.quantization.blocksize", refusal(blocks.build()));
  }

  /** The sample spec, and the spec of the examples, keep the rules. */
  @Test
  void theSampleSpecKeepsTheRules() {
    JobSpecRules.check(SampleEvents.jobSpec("j"));
  }
}
