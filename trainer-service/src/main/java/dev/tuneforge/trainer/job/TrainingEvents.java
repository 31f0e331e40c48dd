package dev.tuneforge.trainer.job;

import com.google.protobuf.util.Timestamps;
import dev.tuneforge.llm.preference.PairwiseTrainer;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.TrainingProgress;
import java.util.LinkedHashMap;
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

  static TrainingProgress progress(String jobId, SftRecipe.Progress p) {
    TrainingProgress.Builder event =
        base(jobId, p.step(), p.totalSteps(), p.epoch(), p.loss(), p.learningRate(), p.gradNorm())
            .setTokensPerSecond(p.tokensPerSecond())
            .setPercentDone(p.percentDone())
            .setEtaSeconds(p.etaSeconds());
    if (p.evalLoss() != null) {
      event.setEvalLoss(p.evalLoss()).setEvalMeanTokenAccuracy(p.evalTokenAccuracy());
    }
    return event.build();
  }

  static TrainingProgress progress(String jobId, PairwiseTrainer.Progress p) {
    TrainingProgress.Builder event =
        base(jobId, p.step(), p.totalSteps(), p.epoch(), p.loss(), p.learningRate(), p.gradNorm())
            .setPercentDone(100.0 * p.step() / p.totalSteps())
            .putAllMetrics(p.metrics());
    if (p.eval() != null && p.eval().containsKey("loss")) {
      event.setEvalLoss(p.eval().get("loss"));
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

  static Map<String, Double> metrics(SftRecipe.Progress p) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("train_loss", p.loss());
    if (p.evalLoss() != null) {
      metrics.put("valid_loss", p.evalLoss());
      metrics.put("valid_mean_token_accuracy", p.evalTokenAccuracy());
    }
    return metrics;
  }
}
