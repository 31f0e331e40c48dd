package dev.tuneforge.gateway.job;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tuneforge.proto.v1.JobError;
import java.util.Map;

/**
 * A job as the API shows it, shaped like the OpenAI {@code fine_tuning.job}. {@code status} uses
 * the OpenAI values; {@code tuneforge_status} keeps the finer TuneForge state; {@code
 * fine_tuned_model} is set once the job succeeded.
 */
public record JobView(
    String id,
    String object,
    String tenant,
    String model,
    String method,
    String status,
    @JsonProperty("tuneforge_status") String tuneforgeStatus,
    @JsonProperty("created_at") long createdAt,
    @JsonProperty("finished_at") Long finishedAt,
    @JsonProperty("training_file") String trainingFile,
    Long seed,
    Map<String, String> error,
    @JsonProperty("result_prefix") String resultPrefix,
    @JsonProperty("fine_tuned_model") String fineTunedModel) {

  /**
   * OpenAI's name for a job's model, {@code ft:{base}:{tenant}::{job-id}}, which the completions
   * endpoints serve.
   */
  public static String fineTunedModel(String base, String tenant, String jobId) {
    return "ft:" + base + ":" + tenant + "::" + jobId;
  }

  static Map<String, String> error(JobError error) {
    return Map.of(
        "code", error.getCode(), "message", error.getMessage(), "param", error.getParam());
  }
}
