package dev.tuneforge.trainer.job;

import com.google.protobuf.util.Timestamps;
import dev.tuneforge.llm.recipe.TrainingStep;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.TrainingProgress;
import java.util.Map;

/** The events a training run publishes, built from llm-core's progress records. */
final class TrainingEvents {
  private TrainingEvents() {}

  /** What every progress event carries. */
  private static TrainingProgress.Builder base(
      String jobId, long step, long totalSteps, double epoch, double loss, double lr, double grad) {
    return TrainingProgress.newBuilder()
        .setJobId(jobId)
        .setStep(step)
        .setTotalSteps(totalSteps)
        .setEpoch(epoch)
        .setLoss(loss)
        .setLearningRate(lr)
        .setGradNorm(grad)
        .setTime(Timestamps.now());
  }

  /**
   * A logged step of any method: the optimizer's figures, the speed, every figure of the method
   * under TRL's names, and an evaluation's loss and token accuracy when one ran.
   */
  static TrainingProgress progress(String jobId, TrainingStep p) {
    TrainingProgress.Builder event =
        base(jobId, p.step(), p.totalSteps(), p.epoch(), p.loss(), p.learningRate(), p.gradNorm())
            .setTokensPerSecond(p.tokensPerSecond())
            .setPercentDone(p.percentDone())
            .setEtaSeconds(p.etaSeconds())
            .putAllMetrics(p.figures());
    if (p.eval().containsKey("loss")) {
      event.setEvalLoss(p.eval().get("loss"));
    }
    if (p.eval().containsKey("mean_token_accuracy")) {
      event.setEvalMeanTokenAccuracy(p.eval().get("mean_token_accuracy"));
    }
    return event.build();
  }

  static CheckpointSaved checkpointSaved(
      JobSpec spec,
      String id,
      long step,
      String prefix,
      boolean adapter,
      boolean isFinal,
      Map<String, Double> metrics) {
    return CheckpointSaved.newBuilder()
        .setJobId(spec.getJobId())
        .setCheckpointId(id)
        .setStep(step)
        .setObjectPrefix(prefix)
        .setKind(adapter ? CheckpointSaved.Kind.ADAPTER : CheckpointSaved.Kind.FULL_WEIGHTS)
        .setBaseModel(spec.getBaseModel())
        .setIsFinal(isFinal)
        .putAllMetrics(metrics)
        .setSpec(spec)
        .build();
  }
}
