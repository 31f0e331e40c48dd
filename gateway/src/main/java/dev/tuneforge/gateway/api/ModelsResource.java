package dev.tuneforge.gateway.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tuneforge.gateway.auth.Caller;
import dev.tuneforge.gateway.job.JobView;
import dev.tuneforge.gateway.job.JobViews;
import dev.tuneforge.platform.api.OpenAiError;
import dev.tuneforge.platform.storage.ObjectStore;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * OpenAI's models API: the base models registered in the bucket ({@code models/{name}/} with a
 * config.json, owned by {@code tuneforge}) and the caller's fine-tuned models (its succeeded jobs,
 * owned by its tenant). Another tenant's fine-tuned model does not exist for the caller.
 */
@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
@io.smallrye.common.annotation.Blocking
public class ModelsResource {
  /** OpenAI's model object. */
  public record Model(
      String id, String object, long created, @JsonProperty("owned_by") String ownedBy) {}

  private final ObjectStore store;
  private final JobViews views;
  private final Caller caller;

  ModelsResource(ObjectStore store, JobViews views, Caller caller) {
    this.store = store;
    this.views = views;
    this.caller = caller;
  }

  @GET
  public FineTuningJobsResource.ListResponse<Model> list() {
    List<Model> models = new ArrayList<>();
    for (String prefix : store.listPrefixes("models/")) {
      String name = prefix.replaceFirst("^models/", "").replaceFirst("/$", "");
      store
          .stat(prefix + "config.json")
          .ifPresent(
              info -> models.add(new Model(name, "model", info.lastModified(), "tuneforge")));
    }
    views.views().stream()
        .filter(job -> caller.tenant().equals(job.tenant()) && job.fineTunedModel() != null)
        .map(ModelsResource::fineTuned)
        .sorted(Comparator.comparingLong(Model::created).reversed())
        .forEach(models::add);
    return new FineTuningJobsResource.ListResponse<>("list", models, false);
  }

  @GET
  @Path("/{model}")
  public Model get(@PathParam("model") String model) {
    return list().data().stream()
        .filter(m -> m.id().equals(model))
        .findFirst()
        .orElseThrow(
            () ->
                OpenAiError.notFound(
                    "model_not_found",
                    "The model `" + model + "` does not exist or you do not have access to it.",
                    "model"));
  }

  private static Model fineTuned(JobView job) {
    return new Model(
        job.fineTunedModel(),
        "model",
        job.finishedAt() == null ? job.createdAt() : job.finishedAt(),
        job.tenant());
  }
}
