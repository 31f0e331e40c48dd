package dev.tuneforge.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneforge.gateway.auth.Caller;
import dev.tuneforge.gateway.job.JobViews;
import dev.tuneforge.platform.api.OpenAiError;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.ObjectStore;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

/**
 * {@code GET /v1/fine_tuning/jobs/{id}/dataset}: the statistics of the job's prepared dataset, as
 * data-service committed them ({@code datasets/{id}/stats.json}): records in and per split, token
 * lengths and their histogram, roles and turns, labels, duplicates removed, records dropped by
 * reason. 404 until the dataset is committed (manifest written), and for another tenant's job.
 */
@Path("/v1/fine_tuning/jobs/{id}/dataset")
@Produces(MediaType.APPLICATION_JSON)
public class DatasetStatsResource {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JobViews views;
  private final Caller caller;
  private final ObjectStore store;
  private final Artifacts artifacts;

  DatasetStatsResource(JobViews views, Caller caller, ObjectStore store, Artifacts artifacts) {
    this.views = views;
    this.caller = caller;
    this.store = store;
    this.artifacts = artifacts;
  }

  @GET
  @io.smallrye.common.annotation.Blocking
  public JsonNode get(@PathParam("id") String id) {
    EvaluationsResource.owned(views, caller, id);
    String prefix = "datasets/" + id + "/";
    if (artifacts.manifest(prefix).isEmpty() || store.stat(prefix + "stats.json").isEmpty()) {
      throw OpenAiError.notFound(
          "dataset_not_prepared", "The dataset of job " + id + " is not prepared yet", "id");
    }
    try {
      JsonNode stats = JSON.readTree(store.getBytes(prefix + "stats.json"));
      ObjectNode named = JSON.createObjectNode();
      named.put("object", "fine_tuning.job.dataset");
      named.put("job_id", id);
      for (Iterator<Map.Entry<String, JsonNode>> fields = stats.fields(); fields.hasNext(); ) {
        Map.Entry<String, JsonNode> field = fields.next();
        named.set(snake(field.getKey()), field.getValue());
      }
      return named;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + prefix + "stats.json", e);
    }
  }

  /** The API's spelling of a statistic's name (inputRecords: input_records). */
  static String snake(String name) {
    return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
  }
}
