package dev.tuneforge.eval.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tuneforge.platform.api.ServiceAuth;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/feedback/comparisons}: a person's rating of two answers to one prompt, one of a
 * fine-tuned model and one of its base, {@code {"experiment": "ft:…", "response_ids": [shown first,
 * shown second], "preferred": <one of them> | "tie", "comment": "…"}}; {@code GET
 * /v1/feedback/comparisons?experiment=ft:…}: the experiment's results. The tenant the gateway names
 * must own the experiment and have been served both answers.
 */
@Path("/v1/feedback/comparisons")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class ComparisonsResource {
  private final Comparisons comparisons;

  ComparisonsResource(Comparisons comparisons) {
    this.comparisons = comparisons;
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  public Map<String, Object> compare(
      JsonNode body, @HeaderParam(ServiceAuth.TENANT_HEADER) String tenant) {
    if (body == null || !body.isObject()) {
      throw CompletionsResource.error(400, "the body must be a JSON object", null);
    }
    String experiment = CompletionRequests.text(body, "experiment", true);
    JsonNode ids = body.path("response_ids");
    if (!ids.isArray()) {
      throw CompletionsResource.error(
          400, "response_ids must be an array of the two response ids shown", "response_ids");
    }
    List<String> responseIds = new ArrayList<>();
    for (JsonNode id : ids) {
      if (!id.isTextual()) {
        throw CompletionsResource.error(
            400, "response_ids must hold strings but holds " + id, "response_ids");
      }
      responseIds.add(id.textValue());
    }
    String preferred = CompletionRequests.text(body, "preferred", true);
    String comment = CompletionRequests.text(body, "comment", false);
    try {
      return comparisons.compare(
          experiment, responseIds, preferred, comment, ServiceAuth.tenant(tenant));
    } catch (Comparisons.Refused e) {
      throw CompletionsResource.error(e.status, e.getMessage(), e.param);
    }
  }

  @GET
  public Map<String, Object> results(
      @QueryParam("experiment") String experiment,
      @HeaderParam(ServiceAuth.TENANT_HEADER) String tenant) {
    if (experiment == null || experiment.isBlank()) {
      throw CompletionsResource.error(400, "experiment is required", "experiment");
    }
    try {
      return comparisons.results(experiment, ServiceAuth.tenant(tenant));
    } catch (Comparisons.Refused e) {
      throw CompletionsResource.error(e.status, e.getMessage(), e.param);
    }
  }
}
