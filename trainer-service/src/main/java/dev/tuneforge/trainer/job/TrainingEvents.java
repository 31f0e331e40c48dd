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

  /**
   * A PPO or Best-of-N step: the loss is PPO's policy loss (or the SFT loss of the best samples),
   * every figure goes along under TRL's names.
   */
  static TrainingProgress progress(
      String jobId, long step, long totalSteps, Map<String, Double> metrics) {
    double loss = metrics.getOrDefault("loss/policy_avg", metrics.getOrDefault("loss", 0.0));
    return base(
            jobId,
            step,
            totalSteps,
            0,
            loss,
            metrics.getOrDefault("learning_rate", 0.0),
            metrics.getOrDefault("grad_norm", 0.0))
        .setPercentDone(100.0 * step / Math.max(1, totalSteps))
        .setTokensPerSecond(metrics.getOrDefault("rollout/tokens_per_second", 0.0))
        .putAllMetrics(metrics)
        .build();
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
