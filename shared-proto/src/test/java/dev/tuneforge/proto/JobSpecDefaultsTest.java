package dev.tuneforge.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.proto.v1.AdapterConfig.PeftType;
import dev.tuneforge.proto.v1.Hyperparameters;
import dev.tuneforge.proto.v1.JobSpec;
import org.junit.jupiter.api.Test;

class JobSpecDefaultsTest {

  private static JobSpec bare(JobSpec.Method method) {
    return SampleEvents.jobSpec("j").toBuilder()
        .setMethod(method)
        .clearHyperparameters()
        .clearAdapter()
        .clearDpo()
        .clearSeed()
        .build();
  }

  @Test
  void qloraGetsLoraNf4AndTheSmallerGradientClip() {
    JobSpec resolved = JobSpecDefaults.resolve(bare(JobSpec.Method.QLORA));
    assertEquals(PeftType.LORA, resolved.getAdapter().getPeftType());
    assertEquals(16, resolved.getAdapter().getLora().getR());
    assertEquals(32.0, resolved.getAdapter().getLora().getLoraAlpha());
    assertEquals(
        JobSpecDefaults.ALL_LINEAR, resolved.getAdapter().getLora().getTargetModulesList());
    assertEquals("nf4", resolved.getAdapter().getQuantization().getBnb4BitQuantType());
    assertEquals(0.3, resolved.getHyperparameters().getMaxGradNorm());
    assertEquals(2e-4, resolved.getHyperparameters().getLearningRate());
    assertEquals(42, resolved.getSeed());
  }

  @Test
  void fullFineTuningHasNoAdapterAndALowerLearningRate() {
    JobSpec resolved = JobSpecDefaults.resolve(bare(JobSpec.Method.FULL));
    assertFalse(resolved.hasAdapter());
    assertEquals(2e-5, resolved.getHyperparameters().getLearningRate());
    assertEquals(1.0, resolved.getHyperparameters().getMaxGradNorm());
  }

  @Test
  void dpoGetsTrlDefaultsAndSetValuesAreKept() {
    JobSpec spec =
        bare(JobSpec.Method.DPO).toBuilder()
            .setHyperparameters(
                Hyperparameters.newBuilder().setNumTrainEpochs(1).setLearningRate(5e-7))
            .build();
    JobSpec resolved = JobSpecDefaults.resolve(spec);
    assertEquals(0.1, resolved.getDpo().getBeta());
    assertEquals("sigmoid", resolved.getDpo().getLossType());
    assertEquals(5e-7, resolved.getHyperparameters().getLearningRate());
    assertEquals(1.0, resolved.getHyperparameters().getNumTrainEpochs());
    assertEquals("linear", resolved.getHyperparameters().getLrSchedulerType());
    assertTrue(JobSpecDefaults.peftType(resolved).isEmpty(), "DPO without adapter trains fully");
  }
}
