package dev.tuneforge.gateway.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.util.Timestamps;
import dev.tuneforge.gateway.auth.Caller;
import dev.tuneforge.gateway.job.JobEvent;
import dev.tuneforge.gateway.job.JobView;
import dev.tuneforge.gateway.job.JobViews;
import dev.tuneforge.platform.api.OpenAiError;
import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.JobCancelRequested;
import dev.tuneforge.proto.v1.TrainingRequested;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

/**
 * {@code /v1/fine_tuning/jobs}, as in the OpenAI API: create a job (published as {@code
 * TrainingRequested} on {@code training.requests}), list the tenant's jobs newest first with {@code
 * after}/{@code limit} paging, read one with its events and checkpoints, request a cancel. Another
 * tenant's job answers 404, exactly as a job that does not exist.
 */
@Path("/v1/fine_tuning/jobs")
@Produces(MediaType.APPLICATION_JSON)
public class FineTuningJobsResource {
  private final JobViews views;
  private final EventPublisher publisher;
  private final Emitter<JobCancelRequested> control;
  private final Emitter<dev.tuneforge.proto.v1.JobStatusChanged> statuses;
  private final Emitter<TrainingRequested> requests;
  private final Caller caller;
  private final ObjectStore store;
  private final Artifacts artifacts;

  private final dev.tuneforge.platform.config.TenantLimits limits;

  FineTuningJobsResource(
      JobViews views,
      EventPublisher publisher,
      @Channel(Channels.JOBS_CONTROL_OUT) Emitter<JobCancelRequested> control,
      @Channel(Channels.JOBS_STATUS_OUT) Emitter<dev.tuneforge.proto.v1.JobStatusChanged> statuses,
      @Channel(Channels.TRAINING_REQUESTS_OUT) Emitter<TrainingRequested> requests,
      Caller caller,
      ObjectStore store,
      Artifacts artifacts,
      dev.tuneforge.platform.config.TenantLimits limits) {
    this.limits = limits;
    this.views = views;
    this.publisher = publisher;
    this.control = control;
    this.statuses = statuses;
    this.requests = requests;
    this.caller = caller;
    this.store = store;
    this.artifacts = artifacts;
  }

  /** An OpenAI-style list object. */
  public record ListResponse<T>(
      String object, List<T> data, @JsonProperty("has_more") boolean hasMore) {
    static <T> ListResponse<T> of(List<T> data) {
      return new ListResponse<>("list", data, false);
    }
  }

  /**
   * Validates the request, checks that the model is registered and the files are the tenant's, and
   * publishes the job; it reads back at once as {@code validating_files}.
   */
  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @io.smallrye.common.annotation.Blocking // storage checks
  public CompletionStage<JobView> create(
      JsonNode body, @jakarta.ws.rs.HeaderParam("Idempotency-Key") String idempotencyKey) {
    String tenant = caller.tenant();
    if (idempotencyKey == null || idempotencyKey.isBlank()) {
      return createJob(body, tenant);
    }
    if (idempotencyKey.length() > 255) {
      throw OpenAiError.invalid(
          "Idempotency-Key", "Idempotency-Key must be at most 255 characters");
    }
    // One create per key at a time; the key's record in storage survives a gateway restart.
    Object lock =
        idempotencyLocks.computeIfAbsent(tenant + "\n" + idempotencyKey, k -> new Object());
    synchronized (lock) {
      String recordKey = Idempotency.key(tenant, idempotencyKey);
      String requestHash = Idempotency.hash(body == null ? "" : body.toString());
      java.util.Optional<Idempotency.Record> earlier = Idempotency.read(store, recordKey);
      if (earlier.isPresent()) {
        if (!earlier.get().requestHash().equals(requestHash)) {
          throw new jakarta.ws.rs.WebApplicationException(
              OpenAiError.response(
                  409,
                  "invalid_request_error",
                  "idempotency_key_reused",
                  "Idempotency-Key was used for a different request; use a new key for a new job",
                  "Idempotency-Key"));
        }
        return java.util.concurrent.CompletableFuture.completedFuture(get(earlier.get().jobId()));
      }
      JobView created;
      try {
        created = createJob(body, tenant).toCompletableFuture().join();
      } catch (java.util.concurrent.CompletionException e) {
        throw e.getCause() instanceof RuntimeException cause ? cause : e;
      }
      Idempotency.write(store, recordKey, new Idempotency.Record(created.id(), requestHash));
      return java.util.concurrent.CompletableFuture.completedFuture(created);
    }
  }

  private final java.util.Map<String, Object> idempotencyLocks =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * How long a create waits for the broker. The producer of {@code training.requests} gives a
   * record up within this time ({@code delivery.timeout.ms}), so a create answered 503 is never
   * applied later.
   */
  static final java.time.Duration PUBLISH_WAIT = java.time.Duration.ofSeconds(15);

  private CompletionStage<JobView> createJob(JsonNode body, String tenant) {
    dev.tuneforge.platform.config.TenantLimits.Limits limits = this.limits.of(tenant);
    int limit = limits.jobsInFlight();
    long inFlight =
        views.views().stream()
            .filter(v -> tenant.equals(v.tenant()))
            .filter(
                v ->
                    !dev.tuneforge.proto.JobLifecycle.isTerminal(
                        dev.tuneforge.proto.v1.JobStatusChanged.Status.valueOf(
                            v.tuneforgeStatus())))
            .count();
    if (inFlight >= limit) {
      throw new jakarta.ws.rs.WebApplicationException(
          OpenAiError.response(
              429,
              "invalid_request_error",
              "rate_limit_exceeded",
              "tenant "
                  + tenant
                  + " has "
                  + inFlight
                  + " fine-tuning jobs that have not finished, the most allowed"
                  + " ("
                  + limits.key(tenant, "jobs-in-flight")
                  + "); wait for one to finish or cancel one",
              null));
    }
    String jobId = "ftjob-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    JobRequests.Checked checked = JobRequests.toSpec(body, jobId, tenant);
    requireRegistered("model", checked.model(), modelPrefix(checked.model()));
    String judge = checked.spec().getOnlineDpo().getJudgeModel();
    if (!judge.isEmpty()) {
      String param = "method.online_dpo.hyperparameters.judge_model";
      if (!judge.matches("[A-Za-z0-9._-]{1,128}") || judge.contains("..")) {
        throw OpenAiError.invalid(
            param, param + " must be a registered model name but was \"" + judge + "\"");
      }
      requireRegistered(param, judge, "models/" + judge + "/");
    }
    for (int i = 0; i < checked.files().size(); i++) {
      String file = checked.files().get(i);
      if (!FilesResource.exists(artifacts, tenant, file)) {
        throw OpenAiError.invalid(
            i == 0 ? "training_file" : "validation_file", "No such file: " + file);
      }
    }
    long now = Instant.now().getEpochSecond();
    TrainingRequested request =
        TrainingRequested.newBuilder()
            .setSpec(checked.spec())
            .setRequestedAt(Timestamps.fromSeconds(now))
            .setRequestedBy(tenant)
            .build();
    return publisher
        .publish(requests, request)
        .toCompletableFuture()
        .orTimeout(PUBLISH_WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)
        .handle(
            (sent, error) -> {
              if (error != null) {
                throw new jakarta.ws.rs.WebApplicationException(
                    OpenAiError.response(
                        503,
                        "server_error",
                        "service_unavailable",
                        "the job could not be queued: the message broker did not take it within "
                            + PUBLISH_WAIT.toSeconds()
                            + " s ("
                            + (error.getCause() == null ? error : error.getCause())
                            + "); nothing was created, retry later",
                        null));
              }
              views.submitted(checked.spec(), now);
              return views.view(jobId).orElseThrow();
            });
  }

  /** Refuses, at {@code param}, a model whose Hugging Face layout is not at {@code prefix}. */
  private void requireRegistered(String param, String model, String prefix) {
    if (store.stat(prefix + "config.json").isEmpty()) {
      throw OpenAiError.invalid(
          param,
          param
              + " \""
              + model
              + "\" is not registered: no "
              + prefix
              + "config.json in the bucket");
    }
  }

  private String modelPrefix(String model) {
    if (model.startsWith("s3://")) {
      String rest = model.substring("s3://".length());
      int slash = rest.indexOf('/');
      if (slash < 0 || !rest.substring(0, slash).equals(store.bucket())) {
        throw OpenAiError.invalid(
            "model", "model " + model + " must be in bucket \"" + store.bucket() + "\"");
      }
      String key = rest.substring(slash + 1);
      // Only the registered bases: anything else in the bucket (a job's full fine-tuned weights
      // under jobs/, a tenant's files) belongs to a tenant, and a URL names no owner to check.
      if (!key.startsWith("models/")) {
        throw OpenAiError.invalid(
            "model",
            "model "
                + model
                + " is not a registered base model: an s3:// model must be under s3://"
                + store.bucket()
                + "/models/");
      }
      return safe(key.endsWith("/") ? key : key + "/");
    }
    if (!model.matches("[A-Za-z0-9._-]{1,128}") || model.contains("..")) {
      throw OpenAiError.invalid(
          "model", "model must be a registered name or an s3:// URL but was \"" + model + "\"");
    }
    return "models/" + model + "/";
  }

  private static String safe(String prefix) {
    if (prefix.startsWith("/") || prefix.contains("..") || prefix.contains("//")) {
      throw OpenAiError.invalid("model", "model path " + prefix + " is not allowed");
    }
    return prefix;
  }

  /**
   * The caller's jobs, newest first, {@code limit} (1-100, default 20) after job {@code after},
   * filtered by OpenAI's {@code metadata[key]=value} query parameters.
   */
  @GET
  public ListResponse<JobView> list(
      @QueryParam("after") String after,
      @QueryParam("limit") @DefaultValue("20") int limit,
      @jakarta.ws.rs.core.Context jakarta.ws.rs.core.UriInfo uri) {
    java.util.Map<String, String> wanted = new java.util.LinkedHashMap<>();
    uri.getQueryParameters()
        .forEach(
            (name, values) -> {
              java.util.regex.Matcher m =
                  java.util.regex.Pattern.compile("metadata\\[(.+)]").matcher(name);
              if (m.matches()) {
                wanted.put(m.group(1), values.get(0));
              }
            });
    List<JobView> mine =
        views.views().stream()
            .filter(v -> v.tenant().equals(caller.tenant()))
            .filter(
                v ->
                    wanted.entrySet().stream()
                        .allMatch(
                            w ->
                                v.metadata() != null
                                    && w.getValue().equals(v.metadata().get(w.getKey()))))
            .toList();
    return page(mine, JobView::id, after, limit, "job");
  }

  /**
   * One page of {@code items} as OpenAI pages lists: {@code limit} (1-100) items after the one
   * whose id is {@code after}, and {@code has_more}.
   */
  static <T> ListResponse<T> page(
      List<T> items,
      java.util.function.Function<T, String> id,
      String after,
      int limit,
      String what) {
    if (limit < 1 || limit > 100) {
      throw OpenAiError.invalid("limit", "limit must be between 1 and 100 but was " + limit);
    }
    int from = 0;
    if (after != null) {
      from = -1;
      for (int i = 0; i < items.size(); i++) {
        if (id.apply(items.get(i)).equals(after)) {
          from = i + 1;
        }
      }
      if (from < 0) {
        throw OpenAiError.invalid("after", "No such " + what + ": " + after);
      }
    }
    List<T> page = items.subList(from, Math.min(items.size(), from + limit));
    return new ListResponse<>("list", page, from + limit < items.size());
  }

  @GET
  @Path("/{id}")
  public JobView get(@PathParam("id") String id) {
    return views
        .view(id)
        .filter(v -> v.tenant().equals(caller.tenant()))
        .orElseThrow(() -> notFound(id));
  }

  /** The job's events newest first, as OpenAI lists them, {@code limit} after {@code after}. */
  @GET
  @Path("/{id}/events")
  public ListResponse<JobEvent> events(
      @PathParam("id") String id,
      @QueryParam("after") String after,
      @QueryParam("limit") @DefaultValue("20") int limit) {
    get(id);
    List<JobEvent> newestFirst =
        new java.util.ArrayList<>(views.events(id).orElseThrow(() -> notFound(id)));
    java.util.Collections.reverse(newestFirst);
    return page(newestFirst, JobEvent::id, after, limit, "event");
  }

  /** The job's checkpoints newest first, {@code limit} (default 10) after {@code after}. */
  @GET
  @Path("/{id}/checkpoints")
  public ListResponse<JobViews.Checkpoint> checkpoints(
      @PathParam("id") String id,
      @QueryParam("after") String after,
      @QueryParam("limit") @DefaultValue("10") int limit) {
    get(id);
    return page(views.checkpoints(id), JobViews.Checkpoint::id, after, limit, "checkpoint");
  }

  /**
   * Cancels a job that has not finished, at any stage: records the cancel in storage ({@link
   * dev.tuneforge.proto.JobLifecycle#cancelledMarker}), which every service reads before it starts
   * work on the job, asks a running trainer to stop on {@code jobs.control}, and publishes the job
   * {@code CANCELLED} on {@code jobs.status}. It answers the job, cancelled, once the broker has
   * both. A finished job (succeeded, failed, cancelled) is refused with 400, as OpenAI refuses it,
   * and nothing is published.
   */
  @POST
  @Path("/{id}/cancel")
  @io.smallrye.common.annotation.Blocking // the cancel record is written to storage
  public CompletionStage<JobView> cancel(@PathParam("id") String id) {
    JobView job = get(id);
    if (dev.tuneforge.proto.JobLifecycle.isTerminal(
        dev.tuneforge.proto.v1.JobStatusChanged.Status.valueOf(job.tuneforgeStatus()))) {
      throw new jakarta.ws.rs.WebApplicationException(
          OpenAiError.response(
              400,
              "invalid_request_error",
              "job_not_cancellable",
              "Fine-tuning job "
                  + id
                  + " has already "
                  + (job.status().equals("cancelled") ? "been cancelled" : job.status())
                  + " and cannot be cancelled",
              "id"));
    }
    String reason = "cancelled through the API";
    com.google.gson.JsonObject marker = new com.google.gson.JsonObject();
    marker.addProperty("job_id", id);
    marker.addProperty("tenant", job.tenant());
    marker.addProperty("reason", reason);
    marker.addProperty("time", java.time.Instant.now().toString());
    store.put(
        dev.tuneforge.proto.JobLifecycle.cancelledMarker(id),
        marker.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
        "application/json");
    JobCancelRequested request =
        JobCancelRequested.newBuilder()
            .setJobId(id)
            .setTenant(job.tenant())
            .setReason(reason)
            .setTime(Timestamps.now())
            .build();
    // With the spec: a job cancelled before data-service reported it has no other status that
    // carries it, and a restarted gateway rebuilds its view from these statuses alone.
    dev.tuneforge.proto.v1.JobStatusChanged.Builder change =
        dev.tuneforge.platform.messaging.JobStatuses.change(
            id,
            job.tenant(),
            dev.tuneforge.proto.v1.JobStatusChanged.Status.CANCELLED,
            reason,
            "gateway");
    views.spec(id).ifPresent(change::setSpec);
    dev.tuneforge.proto.v1.JobStatusChanged cancelled = change.build();
    return publisher
        .publish(control, request)
        .thenCompose(done -> publisher.publish(statuses, cancelled))
        .thenApply(
            done -> {
              views.apply("cancel-" + id, cancelled);
              return views.view(id).orElse(job);
            });
  }

  private static jakarta.ws.rs.WebApplicationException notFound(String id) {
    return OpenAiError.notFound("job_not_found", "No such fine-tuning job: " + id, "id");
  }
}
