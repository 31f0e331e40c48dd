package dev.tuneforge.gateway.job;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tuneforge.proto.v1.JobError;
import java.util.Map;

/**
 * A job as the API shows it, shaped like the OpenAI {@code fine_tuning.job}, every field its SDK
 * types declare included ({@code organization_id}, {@code method} as {@code {type, <type>:
 * {hyperparameters}}}, {@code hyperparameters}, {@code result_files}, {@code trained_tokens},
 * {@code validation_file}, {@code seed}, {@code metadata}, {@code estimated_finish}, {@code
 * integrations}, {@code user_provided_suffix}). {@code status} uses the OpenAI values; {@code
 * tuneforge_status} keeps the finer TuneForge state and {@code tuneforge_method} the TuneForge
 * method (lora, qlora, full, dpo, ...); {@code fine_tuned_model} is set once the job succeeded.
 */
public record JobView(
    String id,
    String object,
    String tenant,
    @JsonProperty("organization_id") String organizationId,
    String model,
    @JsonProperty("tuneforge_method") String tuneforgeMethod,
    Map<String, Object> method,
    Map<String, Object> hyperparameters,
    String status,
    @JsonProperty("tuneforge_status") String tuneforgeStatus,
    @JsonProperty("created_at") long createdAt,
    @JsonProperty("finished_at") Long finishedAt,
    @JsonProperty("training_file") String trainingFile,
    @JsonProperty("validation_file") String validationFile,
    Long seed,
    Map<String, String> error,
    @JsonProperty("result_prefix") String resultPrefix,
    @JsonProperty("result_files") java.util.List<String> resultFiles,
    @JsonProperty("trained_tokens") Long trainedTokens,
    @JsonProperty("estimated_finish") Long estimatedFinish,
    java.util.List<Object> integrations,
    Map<String, String> metadata,
    @JsonProperty("user_provided_suffix") String userProvidedSuffix,
    @JsonProperty("fine_tuned_model") String fineTunedModel) {

  /**
   * OpenAI's name for a job's model, {@code ft:{base}:{tenant}:{suffix}:{job-id}} (the job's {@code
   * suffix}, often empty), which the completions endpoints serve.
   */
  public static String fineTunedModel(String base, String tenant, String suffix, String jobId) {
    return "ft:" + base + ":" + tenant + ":" + suffix + ":" + jobId;
  }

  /** OpenAI's method type of a TuneForge method. */
  static String methodType(dev.tuneforge.proto.v1.JobSpec.Method method) {
    return switch (method) {
      case DPO -> "dpo";
      case PPO -> "ppo";
      case ONLINE_DPO -> "online_dpo";
      case SELF_INSTRUCT -> "self_instruct";
      case CONSTITUTIONAL_AI -> "constitutional_ai";
      case REWARD_MODEL -> "reward_model";
      case BEST_OF_N -> "best_of_n";
      default -> "supervised";
    };
  }

  /**
   * OpenAI's hyperparameters of a job: {@code n_epochs}, {@code batch_size} and {@code
   * learning_rate_multiplier} ("auto" where the job keeps the default), plus DPO's {@code beta}.
   */
  static Map<String, Object> hyperparameters(dev.tuneforge.proto.v1.JobSpec spec) {
    var h = spec.getHyperparameters();
    Map<String, Object> values = new java.util.LinkedHashMap<>();
    values.put("n_epochs", h.hasNumTrainEpochs() ? (Object) h.getNumTrainEpochs() : "auto");
    values.put(
        "batch_size",
        h.hasPerDeviceTrainBatchSize() ? (Object) h.getPerDeviceTrainBatchSize() : "auto");
    boolean full = spec.getMethod() == dev.tuneforge.proto.v1.JobSpec.Method.FULL;
    values.put(
        "learning_rate_multiplier",
        h.hasLearningRate() ? (Object) (h.getLearningRate() / (full ? 2e-5 : 2e-4)) : "auto");
    if (spec.getMethod() == dev.tuneforge.proto.v1.JobSpec.Method.DPO) {
      values.put("beta", spec.getDpo().hasBeta() ? (Object) spec.getDpo().getBeta() : "auto");
    }
    return values;
  }

  static Map<String, String> error(JobError error) {
    return Map.of(
        "code", error.getCode(), "message", error.getMessage(), "param", error.getParam());
  }
}
