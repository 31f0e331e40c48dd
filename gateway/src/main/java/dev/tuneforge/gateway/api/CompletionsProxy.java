package dev.tuneforge.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneforge.gateway.auth.Caller;
import dev.tuneforge.gateway.job.JobViews;
import dev.tuneforge.platform.api.OpenAiError;
import dev.tuneforge.platform.api.ServiceAuth;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;

/**
 * The completions API behind the caller's key: {@code POST /v1/chat/completions}, {@code
 * /v1/completions} and {@code /v1/feedback} are passed to the serving service (eval-service, at
 * {@code tuneforge.gateway.serving-url}), streams included, chunk by chunk, with the service
 * credential and the caller's tenant. A fine-tuned model ({@code
 * ft:{base}:{tenant}:{suffix}:{job}}, or an A/B test of one, {@code ab:ft:...}) is served only when
 * the job it names is recorded as the caller's, has succeeded, and has exactly that model name: the
 * tenant written in the name proves nothing. Any other caller is told the model does not exist, as
 * OpenAI does. Feedback carries the tenant, and eval-service accepts it only for responses served
 * to that tenant.
 */
@Path("/v1")
@Consumes(MediaType.APPLICATION_JSON)
@Blocking
public class CompletionsProxy {

  private static final Pattern FINE_TUNED =
      Pattern.compile("(?:ab:)?(ft:[^:]+:[^:]*:[^:]*:([^:]+))");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String VARIANT = "X-TuneForge-Variant";

  private final Caller caller;
  private final JobViews views;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  CompletionsProxy(Caller caller, JobViews views) {
    this.caller = caller;
    this.views = views;
  }

  @POST
  @Path("/chat/completions")
  public Response chat(
      @RequestBody(content = @Content(schema = @Schema(type = SchemaType.OBJECT))) String body) {
    return forward("/v1/chat/completions", body, true);
  }

  @POST
  @Path("/completions")
  public Response completions(
      @RequestBody(content = @Content(schema = @Schema(type = SchemaType.OBJECT))) String body) {
    return forward("/v1/completions", body, true);
  }

  @POST
  @Path("/feedback")
  public Response feedback(
      @RequestBody(content = @Content(schema = @Schema(type = SchemaType.OBJECT))) String body) {
    return forward("/v1/feedback", body, false);
  }

  /**
   * A person's side-by-side rating of a fine-tuned model's answer against its base's: the
   * experiment (the fine-tuned model) must be the caller's; eval-service checks both answers were
   * served to the caller.
   */
  @POST
  @Path("/feedback/comparisons")
  public Response compare(
      @RequestBody(content = @Content(schema = @Schema(type = SchemaType.OBJECT))) String body) {
    String experiment;
    try {
      JsonNode json = JSON.readTree(body == null ? "" : body);
      experiment = json == null ? null : json.path("experiment").asText(null);
    } catch (IOException e) {
      return OpenAiError.response(
          400, "invalid_request_error", null, "the body is not JSON: " + e.getMessage(), null);
    }
    Optional<Response> refused = notTheCallers(experiment);
    return refused.orElseGet(() -> send("POST", "/v1/feedback/comparisons", body));
  }

  /** The results of the caller's experiment: ratings, wins, ties, win rate and its interval. */
  @jakarta.ws.rs.GET
  @Path("/feedback/comparisons")
  public Response comparisons(@jakarta.ws.rs.QueryParam("experiment") String experiment) {
    return notTheCallers(experiment)
        .orElseGet(
            () ->
                send(
                    "GET",
                    "/v1/feedback/comparisons?experiment="
                        + java.net.URLEncoder.encode(
                            experiment, java.nio.charset.StandardCharsets.UTF_8),
                    null));
  }

  /** A 400 without an experiment, a 404 for one that is not a fine-tuned model of the caller. */
  private Optional<Response> notTheCallers(String experiment) {
    if (experiment == null || experiment.isBlank()) {
      return Optional.of(
          OpenAiError.response(
              400, "invalid_request_error", null, "experiment is required", "experiment"));
    }
    Matcher m = FINE_TUNED.matcher(experiment);
    if (!m.matches() || experiment.startsWith("ab:") || !ownsModel(m.group(2), m.group(1))) {
      return Optional.of(
          OpenAiError.response(
              404,
              "invalid_request_error",
              "model_not_found",
              "No experiment `" + experiment + "`: it must be one of your fine-tuned models.",
              "experiment"));
    }
    return Optional.empty();
  }

  private Response forward(String path, String body, boolean checkModel) {
    if (checkModel) {
      String model;
      try {
        JsonNode json = JSON.readTree(body == null ? "" : body);
        model = json == null ? null : json.path("model").asText(null);
      } catch (IOException e) {
        return OpenAiError.response(
            400, "invalid_request_error", null, "the body is not JSON: " + e.getMessage(), null);
      }
      if (model == null) {
        return OpenAiError.response(
            400, "invalid_request_error", null, "model is required", "model");
      }
      Matcher m = FINE_TUNED.matcher(model);
      if (m.matches() && !ownsModel(m.group(2), m.group(1))) {
        return OpenAiError.response(
            404,
            "invalid_request_error",
            "model_not_found",
            "The model `" + model + "` does not exist or you do not have access to it.",
            "model");
      }
    }
    return send("POST", path, body);
  }

  /** Sends the request to eval-service as the caller and relays its answer as it streams. */
  private Response send(String method, String path, String body) {
    Optional<String> base =
        ConfigProvider.getConfig()
            .getOptionalValue("tuneforge.gateway.serving-url", String.class)
            .map(u -> u.replaceAll("/+$", ""));
    if (base.isEmpty()) {
      return OpenAiError.response(
          503,
          "server_error",
          null,
          "serving is not configured: set tuneforge.gateway.serving-url (TUNEFORGE_SERVING_URL)",
          null);
    }
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(base.get() + path))
            .timeout(Duration.ofMinutes(10))
            .header("Content-Type", "application/json")
            .header(ServiceAuth.TENANT_HEADER, caller.tenant())
            .method(
                method,
                method.equals("GET")
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body == null ? "" : body));
    // eval-service answers 401 without the service credential
    ServiceAuth.token().ifPresent(t -> builder.header(ServiceAuth.TOKEN_HEADER, t));
    HttpRequest request = builder.build();
    HttpResponse<InputStream> upstream;
    try {
      upstream = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      return OpenAiError.response(
          502, "server_error", null, "the serving service is unreachable: " + e.getMessage(), null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OpenAiError.response(503, "server_error", null, "interrupted", null);
    }
    StreamingOutput relay =
        out -> {
          try (InputStream in = upstream.body()) {
            byte[] buffer = new byte[8192];
            for (int read; (read = in.read(buffer)) >= 0; ) {
              out.write(buffer, 0, read);
              out.flush();
            }
          }
        };
    Response.ResponseBuilder response =
        Response.status(upstream.statusCode())
            .entity(relay)
            .type(upstream.headers().firstValue("Content-Type").orElse(MediaType.APPLICATION_JSON));
    upstream.headers().firstValue(VARIANT).ifPresent(v -> response.header(VARIANT, v));
    return response.build();
  }

  /**
   * Whether job {@code jobId} is recorded as the caller's and succeeded with exactly {@code
   * fineTunedModel} as its model.
   */
  private boolean ownsModel(String jobId, String fineTunedModel) {
    return views
        .view(jobId)
        .filter(job -> caller.tenant().equals(job.tenant()))
        .filter(job -> fineTunedModel.equals(job.fineTunedModel()))
        .isPresent();
  }
}
