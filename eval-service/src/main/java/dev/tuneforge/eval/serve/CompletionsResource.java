package dev.tuneforge.eval.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.platform.api.ServiceAuth;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * OpenAI-compatible {@code POST /v1/completions} and {@code POST /v1/chat/completions}, with {@code
 * stream} (server-sent events ending in {@code data: [DONE]}), for a base model, a fine-tuned model
 * ({@code ft:{base}:{tenant}::{job-id}}) or an A/B test of the two ({@code ab:{fine-tuned}}); and
 * {@code POST /v1/feedback} to rate an A/B response. Sampling follows OpenAI: temperature 1 by
 * default, 0 is greedy; {@code top_p}, {@code stop}, {@code seed}, {@code n} (not with stream).
 */
@Path("/v1")
@Consumes(MediaType.APPLICATION_JSON)
@Blocking
public class CompletionsResource {
  static final String VARIANT_HEADER = "X-TuneForge-Variant";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_N = 8;

  private final ServedModels models;
  private final AbTesting ab;
  private final Comparisons comparisons;

  CompletionsResource(ServedModels models, AbTesting ab, Comparisons comparisons) {
    this.models = models;
    this.ab = ab;
    this.comparisons = comparisons;
  }

  @POST
  @Path("/chat/completions")
  public Response chat(JsonNode body, @HeaderParam(ServiceAuth.TENANT_HEADER) String tenant) {
    return complete(body, true, ServiceAuth.tenant(tenant));
  }

  @POST
  @Path("/completions")
  public Response completions(
      JsonNode body, @HeaderParam(ServiceAuth.TENANT_HEADER) String tenant) {
    return complete(body, false, ServiceAuth.tenant(tenant));
  }

  /**
   * Rates an A/B response: {@code {"response_id": "...", "rating": "up" | "down"}}. A response
   * served to one tenant (named by the gateway) cannot be rated by another: it does not exist for
   * them.
   */
  @POST
  @Path("/feedback")
  @Produces(MediaType.APPLICATION_JSON)
  public Map<String, Object> feedback(
      JsonNode body, @HeaderParam(ServiceAuth.TENANT_HEADER) String tenantHeader) {
    Optional<String> tenant = ServiceAuth.tenant(tenantHeader);
    String id = CompletionRequests.text(body, "response_id", true);
    String rating = CompletionRequests.text(body, "rating", true);
    if (!rating.equals("up") && !rating.equals("down")) {
      throw error(400, "rating must be \"up\" or \"down\" but was \"" + rating + "\"", "rating");
    }
    return switch (ab.rate(id, rating.equals("up"), tenant)) {
      case RECORDED ->
          Map.of("response_id", id, "rating", rating, "variant", ab.variantOf(id).orElse(""));
      case UNKNOWN_RESPONSE ->
          throw error(404, "no A/B response with id \"" + id + "\"", "response_id");
      case ALREADY_RATED ->
          throw error(409, "response \"" + id + "\" is already rated", "response_id");
    };
  }

  private record Request(
      String model,
      List<int[]> prompts,
      GenerationConfig config,
      int n,
      boolean stream,
      Optional<AbTesting.Route> route,
      java.util.Set<String> tools,
      int topLogprobs,
      boolean includeUsage) {}

  private Response complete(JsonNode body, boolean chat, Optional<String> tenant) {
    long start = System.nanoTime();
    if (body == null || !body.isObject()) {
      throw error(400, "the body must be a JSON object", null);
    }
    String requested = CompletionRequests.text(body, "model", true);
    if (requested.length() > 256) {
      throw error(
          400,
          "model must be a model name of at most 256 characters but was "
              + requested.length()
              + " characters long",
          "model");
    }
    Optional<AbTesting.Route> route =
        ab.route(requested, CompletionRequests.text(body, "user", false));
    String modelName = route.map(AbTesting.Route::model).orElse(requested);
    // The gateway has checked the job's recorded owner; a request it names a tenant for may use
    // that tenant's fine-tuned models only.
    Optional<String> owner =
        ServedModels.tenantOf(route.map(AbTesting.Route::experiment).orElse(requested));
    if (tenant.isPresent() && owner.isPresent() && !owner.equals(tenant)) {
      throw error(
          404,
          "The model `" + requested + "` does not exist or you do not have access to it.",
          "model",
          "model_not_found");
    }
    ServedModels.Served served;
    try {
      served = models.get(modelName);
    } catch (ServedModels.UnknownModel e) {
      throw error(404, e.getMessage(), "model", "model_not_found");
    }
    List<String> promptTexts =
        chat
            ? List.of(ChatRequests.prompt(body, served))
            : CompletionRequests.completionPrompts(body);
    List<int[]> prompts = new ArrayList<>();
    for (String text : promptTexts) {
      int[] ids = chat ? served.tokenizer().encodePlain(text) : served.tokenizer().encode(text);
      if (ids.length == 0) {
        throw error(400, "the prompt is empty", chat ? "messages" : "prompt");
      }
      prompts.add(ids);
    }
    int n = CompletionRequests.integer(body, "n", 1, 1, MAX_N);
    boolean stream = body.path("stream").asBoolean(false);
    if (stream && (n > 1 || prompts.size() > 1)) {
      throw error(400, "stream supports one prompt and n = 1", "stream");
    }
    GenerationConfig config =
        CompletionRequests.contextChecked(
            CompletionRequests.config(body, chat, served, n), body, chat, served, prompts);
    boolean logprobs = chat && body.path("logprobs").asBoolean(false);
    if (body.has("top_logprobs") && !logprobs) {
      throw error(400, "top_logprobs needs logprobs: true", "top_logprobs");
    }
    int topLogprobs = logprobs ? CompletionRequests.integer(body, "top_logprobs", 0, 0, 20) : -1;
    JsonNode streamOptions = body.path("stream_options");
    if (!streamOptions.isMissingNode() && !streamOptions.isNull() && !stream) {
      throw error(400, "stream_options is only allowed with stream: true", "stream_options");
    }
    Request request =
        new Request(
            modelName,
            prompts,
            config,
            n,
            stream,
            route,
            chat ? AssistantMessages.toolNames(body) : java.util.Set.of(),
            topLogprobs,
            streamOptions.path("include_usage").asBoolean(false));
    String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
    long created = System.currentTimeMillis() / 1000;
    if (stream) {
      StreamingOutput output =
          out -> {
            stream(served, request, chat, id, created, out);
            comparisons.served(id, modelName, tenant);
            route.ifPresent(
                r -> ab.served(id, r, Duration.ofNanos(System.nanoTime() - start), tenant));
          };
      return withVariant(Response.ok(output, "text/event-stream"), route).build();
    }
    List<Generated> generated = generate(served, request, Generator.TokenListener.NONE);
    ObjectNode response = body(id, chat, created, request, generated, served);
    comparisons.served(id, modelName, tenant);
    route.ifPresent(
        r -> {
          response.put("variant", r.variant());
          ab.served(id, r, Duration.ofNanos(System.nanoTime() - start), tenant);
        });
    return withVariant(Response.ok(response, MediaType.APPLICATION_JSON), route).build();
  }

  /** The completion object: choices, finish reasons and token usage, as OpenAI returns it. */
  private static ObjectNode body(
      String id,
      boolean chat,
      long created,
      Request request,
      List<Generated> generated,
      ServedModels.Served served) {
    ObjectNode response = JSON.createObjectNode();
    response.put("id", id);
    response.put("object", chat ? "chat.completion" : "text_completion");
    response.put("created", created);
    response.put("model", request.model());
    ArrayNode choices = response.putArray("choices");
    int completionTokens = 0;
    for (int i = 0; i < generated.size(); i++) {
      Generated g = generated.get(i);
      completionTokens += g.tokens().length;
      ObjectNode choice = choices.addObject();
      choice.put("index", i);
      if (chat) {
        choice.set("message", AssistantMessages.message(g.text(), request.tools()));
        if (request.topLogprobs() >= 0) {
          choice.set("logprobs", logprobs(g.logprobs(), served));
        } else {
          choice.putNull("logprobs");
        }
        choice.put(
            "finish_reason",
            AssistantMessages.finishReason(g.text(), request.tools(), g.finishReason()));
      } else {
        choice.put("text", g.text());
        choice.putNull("logprobs");
        choice.put("finish_reason", g.finishReason());
      }
    }
    int promptTokens = request.prompts().stream().mapToInt(p -> p.length).sum();
    ObjectNode usage = response.putObject("usage");
    usage.put("prompt_tokens", promptTokens);
    usage.put("completion_tokens", completionTokens);
    usage.put("total_tokens", promptTokens + completionTokens);
    return response;
  }

  /**
   * OpenAI's {@code logprobs} of a choice: per token its text, log-probability, UTF-8 bytes and the
   * {@code top_logprobs} most likely tokens there.
   */
  private static ObjectNode logprobs(
      List<Generated.TokenLogprob> tokens, ServedModels.Served served) {
    ObjectNode logprobs = JSON.createObjectNode();
    ArrayNode content = logprobs.putArray("content");
    for (Generated.TokenLogprob lp : tokens) {
      ObjectNode entry = token(served, lp.token(), lp.logprob());
      ArrayNode top = entry.putArray("top_logprobs");
      for (int k = 0; k < lp.topTokens().length; k++) {
        top.add(token(served, lp.topTokens()[k], lp.topLogprobs()[k]));
      }
      content.add(entry);
    }
    logprobs.putNull("refusal");
    return logprobs;
  }

  private static ObjectNode token(ServedModels.Served served, int id, double logprob) {
    ObjectNode node = JSON.createObjectNode();
    String text = served.tokenizer().decode(new int[] {id}, false);
    node.put("token", text);
    node.put("logprob", logprob);
    ArrayNode bytes = node.putArray("bytes");
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      bytes.add(b & 0xff);
    }
    return node;
  }

  private static Response.ResponseBuilder withVariant(
      Response.ResponseBuilder response, Optional<AbTesting.Route> route) {
    return route.map(r -> response.header(VARIANT_HEADER, r.variant())).orElse(response);
  }

  /** Generates every prompt n times, on the model's lock (one generation at a time per model). */
  private static List<Generated> generate(
      ServedModels.Served served, Request request, Generator.TokenListener listener) {
    List<int[]> rows = new ArrayList<>();
    for (int[] prompt : request.prompts()) {
      for (int i = 0; i < request.n(); i++) {
        rows.add(prompt);
      }
    }
    synchronized (served.lock()) {
      return Autograd.withGrad(
          false,
          () ->
              new Generator(served.model(), served.tokenizer())
                  .generate(rows, request.config(), listener, request.topLogprobs()));
    }
  }

  /**
   * Streams one choice as chunks: text is sent as it is decoded, holding back what could still
   * become a stop string (or an incomplete character), then the rest, the finish reason and {@code
   * [DONE]}. When the request offers tools, the answer is held until it ends, then sent as content
   * or as {@code tool_calls} deltas, since text already sent cannot turn into a call. With
   * logprobs, each chunk carries the entries of the tokens received since the last one (held-back
   * tokens go with the text they become), so the chunks' entries in order are the whole answer's.
   */
  private void stream(
      ServedModels.Served served,
      Request request,
      boolean chat,
      String id,
      long created,
      OutputStream out)
      throws IOException {
    send(out, chunk(request, chat, id, created, chat ? "" : null, null, true));
    TextStream stream = new TextStream(served, request, chat, id, created, out);
    List<Generated> generated = generate(served, request, stream);
    if (stream.failed != null) {
      throw stream.failed;
    }
    StringBuilder sent = stream.sent;
    List<Generated.TokenLogprob> pending = stream.pending;
    Generated g = generated.get(0);
    // What was not sent yet goes with the next chunk: the rest of the text, or the finish.
    pending.clear();
    pending.addAll(g.logprobs().subList(stream.streamedLogprobs, g.logprobs().size()));
    Optional<dev.tuneforge.llm.generate.ToolCalls.Parsed> calls =
        AssistantMessages.calls(g.text(), request.tools());
    if (calls.isPresent()) {
      if (calls.get().content() != null) {
        ObjectNode content = chunk(request, chat, id, created, calls.get().content(), null, false);
        attach(content, pending, request, served);
        send(out, content);
      }
      ObjectNode toolChunk = chunk(request, chat, id, created, null, null, false);
      ((ObjectNode) toolChunk.get("choices").get(0).get("delta"))
          .set("tool_calls", AssistantMessages.toolCalls(calls.get(), true));
      attach(toolChunk, pending, request, served);
      send(out, toolChunk);
    } else if (g.text().startsWith(sent.toString()) && g.text().length() > sent.length()) {
      ObjectNode rest =
          chunk(request, chat, id, created, g.text().substring(sent.length()), null, false);
      attach(rest, pending, request, served);
      send(out, rest);
    }
    String finish =
        chat
            ? AssistantMessages.finishReason(g.text(), request.tools(), g.finishReason())
            : g.finishReason();
    ObjectNode last = chunk(request, chat, id, created, null, finish, false);
    attach(last, pending, request, served);
    send(out, last);
    if (request.includeUsage()) { // OpenAI's last chunk: no choices, the usage
      ObjectNode usage = chunk(request, chat, id, created, null, null, false);
      usage.putArray("choices");
      int promptTokens = request.prompts().get(0).length;
      ObjectNode counts = usage.putObject("usage");
      counts.put("prompt_tokens", promptTokens);
      counts.put("completion_tokens", g.tokens().length);
      counts.put("total_tokens", promptTokens + g.tokens().length);
      send(out, usage);
    }
    out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /**
   * Sends a choice's text as it is decoded: what could still become a stop string (or an incomplete
   * character) is held back, and nothing is sent while tools are offered (a call is known only at
   * the end). Each chunk carries the logprobs of the tokens received since the last one.
   */
  private final class TextStream implements Generator.TokenListener {
    private final ServedModels.Served served;
    private final Request request;
    private final boolean chat;
    private final String id;
    private final long created;
    private final OutputStream out;
    private final int holdBack;
    private final List<Integer> tokens = new ArrayList<>();
    final StringBuilder sent = new StringBuilder();
    final List<Generated.TokenLogprob> pending = new ArrayList<>();
    int streamedLogprobs;
    IOException failed;

    TextStream(
        ServedModels.Served served,
        Request request,
        boolean chat,
        String id,
        long created,
        OutputStream out) {
      this.served = served;
      this.request = request;
      this.chat = chat;
      this.id = id;
      this.created = created;
      this.out = out;
      this.holdBack =
          request.config().stopStrings().stream().mapToInt(String::length).max().orElse(1) - 1;
    }

    @Override
    public void onToken(int row, int token) {
      onToken(row, token, null);
    }

    @Override
    public void onToken(int row, int token, Generated.TokenLogprob logprob) {
      if (logprob != null) {
        pending.add(logprob);
      }
      if (failed != null
          || request.config().stopTokenIds().contains(token)
          || !request.tools().isEmpty()) {
        return;
      }
      tokens.add(token);
      String text =
          served.tokenizer().decode(tokens.stream().mapToInt(Integer::intValue).toArray(), true);
      int ready = text.length() - holdBack;
      if (text.endsWith("\uFFFD") || ready <= sent.length()) {
        return;
      }
      String delta = text.substring(sent.length(), ready);
      for (String stop : request.config().stopStrings()) {
        if (text.contains(stop)) {
          return; // the final text, cut before it, follows
        }
      }
      try {
        ObjectNode chunk = chunk(request, chat, id, created, delta, null, false);
        streamedLogprobs += attach(chunk, pending, request, served);
        send(out, chunk);
        sent.append(delta);
      } catch (IOException e) {
        failed = e;
      }
    }
  }

  /**
   * Puts the pending tokens' logprobs on a chat chunk's choice ({@code null} when the request did
   * not ask for them) and clears them.
   *
   * @return how many entries were attached
   */
  private static int attach(
      ObjectNode chunk,
      List<Generated.TokenLogprob> pending,
      Request request,
      ServedModels.Served served) {
    if (request.topLogprobs() < 0 || chunk.get("choices").get(0).get("delta") == null) {
      return 0;
    }
    ObjectNode choice = (ObjectNode) chunk.get("choices").get(0);
    choice.set("logprobs", logprobs(pending, served));
    int attached = pending.size();
    pending.clear();
    return attached;
  }

  private ObjectNode chunk(
      Request request,
      boolean chat,
      String id,
      long created,
      String delta,
      String finishReason,
      boolean first) {
    ObjectNode chunk = JSON.createObjectNode();
    chunk.put("id", id);
    chunk.put("object", chat ? "chat.completion.chunk" : "text_completion");
    chunk.put("created", created);
    chunk.put("model", request.model());
    request.route().ifPresent(r -> chunk.put("variant", r.variant()));
    ObjectNode choice = chunk.putArray("choices").addObject();
    choice.put("index", 0);
    if (chat) {
      ObjectNode d = choice.putObject("delta");
      if (first) {
        d.put("role", "assistant");
      }
      if (delta != null) {
        d.put("content", delta);
      }
    } else {
      choice.put("text", delta == null ? "" : delta);
      choice.putNull("logprobs");
    }
    if (finishReason == null) {
      choice.putNull("finish_reason");
    } else {
      choice.put("finish_reason", finishReason);
    }
    return chunk;
  }

  private static void send(OutputStream out, ObjectNode chunk) throws IOException {
    out.write(("data: " + chunk + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  static WebApplicationException error(int status, String message, String param) {
    return error(status, message, param, null);
  }

  static WebApplicationException error(int status, String message, String param, String code) {
    return new WebApplicationException(
        dev.tuneforge.platform.api.OpenAiError.response(
            status, "invalid_request_error", code, message, param));
  }
}
