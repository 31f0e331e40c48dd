package dev.tuneforge.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneforge.gateway.auth.Caller;
import dev.tuneforge.gateway.job.JobViews;
import dev.tuneforge.platform.api.OpenAiError;
import dev.tuneforge.platform.storage.ObjectStore;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A job's evaluations, as eval-service wrote them ({@code jobs/{id}/evals/{checkpoint}.json}): the
 * list gives each checkpoint's base, tuned and delta per metric; one evaluation adds every sample
 * (prompt, reference, both answers and, when judged, their rewards). Another tenant's job answers
 * 404, as a job that does not exist.
 */
@Path("/v1/fine_tuning/jobs/{id}/evaluations")
@Produces(MediaType.APPLICATION_JSON)
public class EvaluationsResource {
  // eval-service writes NaN where a metric has no value (Gson's special floating-point values)
  private static final ObjectMapper JSON =
      com.fasterxml.jackson.databind.json.JsonMapper.builder()
          .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .build();
  private static final java.util.regex.Pattern CHECKPOINT =
      java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private final JobViews views;
  private final Caller caller;
  private final ObjectStore store;

  EvaluationsResource(JobViews views, Caller caller, ObjectStore store) {
    this.views = views;
    this.caller = caller;
    this.store = store;
  }

  /** Every evaluated checkpoint of the job, without the samples. */
  @GET
  @io.smallrye.common.annotation.Blocking
  public FineTuningJobsResource.ListResponse<JsonNode> list(@PathParam("id") String id) {
    owned(id);
    List<JsonNode> reports = new ArrayList<>();
    for (ObjectStore.ObjectInfo object : store.list(prefix(id))) {
      if (object.key().endsWith(".json")) {
        ObjectNode report = read(object.key());
        report.remove("samples");
        reports.add(report);
      }
    }
    return FineTuningJobsResource.ListResponse.of(reports);
  }

  /** One checkpoint's evaluation with every sample. */
  @GET
  @Path("/{checkpoint}")
  @io.smallrye.common.annotation.Blocking
  public JsonNode get(@PathParam("id") String id, @PathParam("checkpoint") String checkpoint) {
    owned(id);
    String key = prefix(id) + checkpoint + ".json";
    if (!CHECKPOINT.matcher(checkpoint).matches() || store.stat(key).isEmpty()) {
      throw OpenAiError.notFound(
          "evaluation_not_found",
          "No evaluation of checkpoint " + checkpoint + " in job " + id,
          "checkpoint");
    }
    return read(key);
  }

  private void owned(String id) {
    owned(views, caller, id);
  }

  /** Refuses, as a job that does not exist, a job the caller does not own. */
  static void owned(JobViews views, Caller caller, String id) {
    views
        .view(id)
        .filter(v -> v.tenant().equals(caller.tenant()))
        .orElseThrow(
            () -> OpenAiError.notFound("job_not_found", "No such fine-tuning job: " + id, "id"));
  }

  private static String prefix(String id) {
    return "jobs/" + id + "/evals/";
  }

  private ObjectNode read(String key) {
    try {
      ObjectNode report = (ObjectNode) JSON.readTree(store.getBytes(key));
      String name = key.substring(key.lastIndexOf('/') + 1);
      report.put("checkpoint_id", name.substring(0, name.length() - ".json".length()));
      return report;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the evaluation " + key, e);
    }
  }
}
