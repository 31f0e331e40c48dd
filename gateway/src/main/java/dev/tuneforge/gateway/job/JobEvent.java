package dev.tuneforge.gateway.job;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * One entry of a job's event log, shaped like the OpenAI {@code fine_tuning.job.event}.
 *
 * @param id the CloudEvents id of the event it came from
 * @param createdAt Unix seconds
 * @param level info, warn or error
 * @param type "message" for status changes, "metrics" for progress and evaluation
 * @param data the numbers of a metrics event
 */
public record JobEvent(
    String id,
    String object,
    @JsonProperty("created_at") long createdAt,
    String level,
    String message,
    String type,
    Map<String, Object> data) {

  static JobEvent message(String id, long createdAt, String level, String message) {
    return new JobEvent(
        id, "fine_tuning.job.event", createdAt, level, message, "message", Map.of());
  }

  static JobEvent metrics(String id, long createdAt, String message, Map<String, Object> data) {
    return new JobEvent(id, "fine_tuning.job.event", createdAt, "info", message, "metrics", data);
  }
}
