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

  /** The sample spec, and the spec of the examples, keep the rules. */
  @Test
  void theSampleSpecKeepsTheRules() {
    JobSpecRules.check(SampleEvents.jobSpec("j"));
  }
}
