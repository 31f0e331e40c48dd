package dev.tuneforge.proto;

import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.tuneforge.proto.v1.AdapterConfig;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.DatasetRef;
import dev.tuneforge.proto.v1.DatasetSplit;
import dev.tuneforge.proto.v1.DpoConfig;
import dev.tuneforge.proto.v1.EvalCompleted;
import dev.tuneforge.proto.v1.Hyperparameters;
import dev.tuneforge.proto.v1.JobCancelRequested;
import dev.tuneforge.proto.v1.JobError;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.LoraConfig;
import dev.tuneforge.proto.v1.MetricResult;
import dev.tuneforge.proto.v1.ModelRef;
import dev.tuneforge.proto.v1.QuantizationConfig;
import dev.tuneforge.proto.v1.RewardItem;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.RewardScores;
import dev.tuneforge.proto.v1.TokenStatistics;
import dev.tuneforge.proto.v1.TrainingProgress;
import dev.tuneforge.proto.v1.TrainingRequested;
import java.util.Map;

/** One realistic instance of every event, shared by tests of all modules. */
public final class SampleEvents {
  public static final String JOB_ID = "ftjob-0001";
  private static final Timestamp TIME =
      Timestamp.newBuilder().setSeconds(1_795_000_000L).setNanos(0).build();

  private SampleEvents() {}

  /** A QLoRA SFT job spec on a tiny model. */
  public static JobSpec jobSpec(String jobId) {
    return JobSpec.newBuilder()
        .setJobId(jobId)
        .setTenant("acme")
        .setBaseModel(ModelRef.newBuilder().setName("tiny-llama").setRevision("seed-42"))
        .setMethod(JobSpec.Method.QLORA)
        .setDataset(
            DatasetRef.newBuilder()
                .setTrainingFile("uploads/acme/chat.jsonl")
                .setFormat(DatasetRef.Format.MESSAGES)
                .setValidationSplit(0.1))
        .setHyperparameters(
            Hyperparameters.newBuilder()
                .setLearningRate(2e-4)
                .setNumTrainEpochs(2)
                .setPerDeviceTrainBatchSize(4)
                .setGradientAccumulationSteps(2)
                .setLrSchedulerType("cosine")
                .setMaxSeqLength(512)
                .setPacking(true))
        .setAdapter(
            AdapterConfig.newBuilder()
                .setPeftType(AdapterConfig.PeftType.LORA)
                .setLora(
                    LoraConfig.newBuilder()
                        .setR(16)
                        .setLoraAlpha(32)
                        .setLoraDropout(0.05)
                        .addTargetModules("q_proj")
                        .addTargetModules("v_proj"))
                .setQuantization(
                    QuantizationConfig.newBuilder().setLoadIn4Bit(true).setBnb4BitQuantType("nf4")))
        .setDpo(DpoConfig.newBuilder().setBeta(0.1))
        .setSeed(42)
        .setSuffix("support-bot")
        .putMetadata("team", "platform")
        .build();
  }

  public static TrainingRequested trainingRequested(String jobId) {
    return TrainingRequested.newBuilder()
        .setSpec(jobSpec(jobId))
        .setRequestedAt(TIME)
        .setRequestedBy("alice")
        .build();
  }

  public static DatasetPrepared datasetPrepared(String jobId) {
    String prefix = "datasets/ds-" + jobId + "/";
    return DatasetPrepared.newBuilder()
        .setJobId(jobId)
        .setDatasetId("ds-" + jobId)
        .setSpec(jobSpec(jobId))
        .setFormat(DatasetRef.Format.MESSAGES)
        .addSplits(split("train", prefix + "train.jsonl", 900))
        .addSplits(split("validation", prefix + "validation.jsonl", 100))
        .setManifestKey(prefix + "manifest.json")
        .setTokenStatistics(
            TokenStatistics.newBuilder()
                .setTotalTokens(120_000)
                .setMinTokens(12)
                .setMaxTokens(700)
                .setMeanTokens(120.0)
                .setP95Tokens(400)
                .setTruncatedExamples(3))
        .setDuplicatesRemoved(5)
        .addWarnings("line 17: empty assistant message skipped")
        .build();
  }

  private static DatasetSplit split(String name, String key, long examples) {
    return DatasetSplit.newBuilder()
        .setName(name)
        .setObjectKey(key)
        .setExamples(examples)
        .setTokens(examples * 120)
        .build();
  }

  public static TrainingProgress trainingProgress(String jobId) {
    return TrainingProgress.newBuilder()
        .setJobId(jobId)
        .setStep(50)
        .setTotalSteps(250)
        .setEpoch(0.4)
        .setLoss(1.25)
        .setLearningRate(1.9e-4)
        .setGradNorm(0.8)
        .setTokensPerSecond(1500.0)
        .setPercentDone(20.0)
        .setEtaSeconds(600)
        .setTime(TIME)
        .putMetrics("mean_token_accuracy", 0.61)
        .build();
  }

  public static CheckpointSaved checkpointSaved(String jobId) {
    return CheckpointSaved.newBuilder()
        .setJobId(jobId)
        .setCheckpointId(jobId + "-step-100")
        .setStep(100)
        .setObjectPrefix("jobs/" + jobId + "/checkpoints/step-100/")
        .setKind(CheckpointSaved.Kind.ADAPTER)
        .setBaseModel(ModelRef.newBuilder().setName("tiny-llama"))
        .putMetrics("eval_loss", 1.1)
        .setTime(TIME)
        .build();
  }

  public static RewardRequest rewardRequest(String correlationId) {
    return RewardRequest.newBuilder()
        .setCorrelationId(correlationId)
        .setRewardModel("helpfulness-rm")
        .addItems(RewardItem.newBuilder().setPrompt("What is 2+2?").setResponse("4"))
        .addItems(RewardItem.newBuilder().setPrompt("What is 2+2?").setResponse("five"))
        .setJobId(JOB_ID)
        .setReplyTo("trainer-service")
        .build();
  }

  public static RewardScores rewardScores(String correlationId) {
    return RewardScores.newBuilder()
        .setCorrelationId(correlationId)
        .setRewardModel("helpfulness-rm")
        .addScores(1.5)
        .addScores(-0.75)
        .setJobId(JOB_ID)
        .setReplyTo("trainer-service")
        .build();
  }

  public static EvalCompleted evalCompleted(String jobId) {
    return EvalCompleted.newBuilder()
        .setJobId(jobId)
        .setCheckpointId(jobId + "-step-100")
        .setStep(100)
        .addMetrics(metric("perplexity", 5.2, 9.8))
        .addMetrics(metric("rougeL", 0.41, 0.22))
        .addMetrics(MetricResult.newBuilder().setName("win_rate").setCheckpointValue(0.7))
        .setReportKey("jobs/" + jobId + "/evals/step-100.json")
        .setSamples(200)
        .setTime(TIME)
        .build();
  }

  private static MetricResult metric(String name, double value, double base) {
    return MetricResult.newBuilder()
        .setName(name)
        .setCheckpointValue(value)
        .setBaseValue(base)
        .build();
  }

  public static JobStatusChanged jobStatusChanged(String jobId) {
    return JobStatusChanged.newBuilder()
        .setJobId(jobId)
        .setTenant("acme")
        .setStatus(JobStatusChanged.Status.FAILED)
        .setReason("dataset line 17: field \"messages\" is missing")
        .setError(
            JobError.newBuilder()
                .setCode("invalid_training_file")
                .setMessage("dataset line 17: field \"messages\" is missing")
                .setParam("training_file"))
        .setService("data-service")
        .setTime(TIME)
        .build();
  }

  public static JobCancelRequested jobCancelRequested(String jobId) {
    return JobCancelRequested.newBuilder()
        .setJobId(jobId)
        .setTenant("acme")
        .setReason("user request")
        .setRequestedBy("alice")
        .setTime(TIME)
        .build();
  }

  /** One sample per event type, keyed by type. */
  public static Map<EventType, Message> all() {
    return Map.of(
        EventType.TRAINING_REQUESTED, trainingRequested(JOB_ID),
        EventType.DATASET_PREPARED, datasetPrepared(JOB_ID),
        EventType.TRAINING_PROGRESS, trainingProgress(JOB_ID),
        EventType.CHECKPOINT_SAVED, checkpointSaved(JOB_ID),
        EventType.REWARD_REQUEST, rewardRequest("corr-0001"),
        EventType.REWARD_SCORES, rewardScores("corr-0001"),
        EventType.EVAL_COMPLETED, evalCompleted(JOB_ID),
        EventType.JOB_STATUS_CHANGED, jobStatusChanged(JOB_ID),
        EventType.JOB_CANCEL_REQUESTED, jobCancelRequested(JOB_ID));
  }
}
