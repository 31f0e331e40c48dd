package dev.tuneforge.eval.serve;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.eval.TestModels;
import dev.tuneforge.llm.data.ChatMessage;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import dev.tuneforge.platform.api.ServiceAuth;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.testing.RealStackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI-compatible endpoints answer as llm-core does for the same model and settings: the base
 * model, and a job's fine-tuned model (base plus its PEFT adapter); streaming sends the same text
 * in chunks; an A/B model splits requests between the two and takes feedback per response.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
@org.junit.jupiter.api.extension.ExtendWith(dev.tuneforge.testing.ServiceCredential.class)
class ServingTest {
  static final String JOB = "serve-job";
  static final String FINE_TUNED = "ft:tiny-serve:acme::" + JOB;
  static final String IA3_JOB = "serve-ia3-job";
  static final String PROMPT_JOB = "serve-prompt-job";
  static final String PREFIX_JOB = "serve-prefix-job";
  static final String ADALORA_JOB = "serve-adalora-job";
  static Path adaLoraDir;
  static Path prefixDir;
  static Path ia3Dir;
  static Path promptDir;
  static Path base;
  static Path adapterDir;
  @Inject ObjectStore store;
  @Inject Artifacts artifacts;

  @BeforeEach
  void seed() throws Exception {
    store.ensureBucket();
    if (base != null) {
      return;
    }
    base = TestModels.base(store, "tiny-serve", 11);
    // An adapter whose update is far from zero, so the tuned model answers differently.
    adapterDir = TestModels.adapter(base, "tiny-serve", true);
    commitFinal(JOB, adapterDir);
    ia3Dir = TestModels.ia3Adapter(base, "tiny-serve");
    commitFinal(IA3_JOB, ia3Dir);
    promptDir = TestModels.promptTuningAdapter(base, "tiny-serve");
    commitFinal(PROMPT_JOB, promptDir);
    prefixDir = TestModels.prefixTuningAdapter(base, "tiny-serve");
    commitFinal(PREFIX_JOB, prefixDir);
    adaLoraDir = TestModels.adaLoraAdapter(base, "tiny-serve");
    commitFinal(ADALORA_JOB, adaLoraDir);
  }

  /** Commits an adapter directory as a job's final result, as the trainer does. */
  void commitFinal(String job, Path adapter) throws Exception {
    TestModels.commitFinal(artifacts, job, adapter);
  }

  /** Greedy answer of llm-core to one user message, with or without the adapter. */
  static String expected(String user, boolean tuned) {
    return expected(user, tuned ? adapterDir : null);
  }

  /** Greedy answer of llm-core to one user message, with the PEFT adapter of {@code adapter}. */
  static String expected(String user, Path adapter) {
    return generated(user, adapter, -1).text();
  }

  /** llm-core's greedy generation for one user message, with logprobs when {@code top} >= 0. */
  static dev.tuneforge.llm.generate.Generated generated(String user, Path adapter, int top) {
    try (Tokenizer tokenizer = Tokenizer.load(base);
        ai.djl.ndarray.NDManager staging = Torch.engine().newBaseManager()) {
      Projections projections =
          adapter != null
              ? dev.tuneforge.llm.adapter.PeftAdapters.load(adapter, staging)
                  .projections(Projections.DENSE)
              : Projections.DENSE;
      try (LlamaModel model = LlamaModel.load(base, Compute.CPU_FLOAT32, projections)) {
        String prompt =
            ChatTemplate.fromModel(base, tokenizer.config(), "default")
                .orElseThrow()
                .render(
                    List.of(new ChatMessage("user", user)),
                    true,
                    Map.of(
                        "bos_token", tokenizer.special().bos(),
                        "eos_token", tokenizer.special().eos()));
        GenerationConfig greedy =
            GenerationConfig.greedy(12, new HashSet<>(model.config().eosTokenIds()));
        return Autograd.withGrad(
                false,
                () ->
                    new Generator(model, tokenizer)
                        .generate(
                            List.of(tokenizer.encodePlain(prompt)),
                            greedy,
                            Generator.TokenListener.NONE,
                            top))
            .get(0);
      }
    }
  }

  /**
   * Posts a one-message chat to {@code model} with {@code extra} key/value pairs, as {@code as}.
   */
  static Response post(
      io.restassured.specification.RequestSpecification as,
      String model,
      String content,
      Object... extra) {
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("model", model);
    body.put("messages", List.of(Map.of("role", "user", "content", content)));
    for (int i = 0; i < extra.length; i += 2) {
      body.put((String) extra[i], extra[i + 1]);
    }
    return as.contentType(ContentType.JSON).body(body).post("/v1/chat/completions");
  }

  static Response chat(String model, String user, boolean stream, String userId) {
    return given()
        .contentType(ContentType.JSON)
        .body(
            Map.of(
                "model",
                model,
                "messages",
                List.of(Map.of("role", "user", "content", user)),
                "temperature",
                0,
                "max_tokens",
                12,
                "stream",
                stream,
                "user",
                userId))
        .post("/v1/chat/completions");
  }

  @Test
  void baseAndFineTunedModelsAnswerAsLlmCoreDoes() {
    String baseAnswer = expected("Hello there", false);
    String tunedAnswer = expected("Hello there", true);
    assertNotEquals(baseAnswer, tunedAnswer, "the adapter changes the answer");
    Response base = chat("tiny-serve", "Hello there", false, "u");
    base.then()
        .statusCode(200)
        .body("object", equalTo("chat.completion"))
        .body("model", equalTo("tiny-serve"))
        .body("choices[0].message.role", equalTo("assistant"))
        .body("choices[0].message.content", equalTo(baseAnswer));
    int prompt = base.path("usage.prompt_tokens");
    int completion = base.path("usage.completion_tokens");
    assertEquals(prompt + completion, (int) base.path("usage.total_tokens"));
    assertTrue(base.<String>path("id").startsWith("chatcmpl-"));
    chat(FINE_TUNED, "Hello there", false, "u")
        .then()
        .statusCode(200)
        .body("model", equalTo(FINE_TUNED))
        .body("choices[0].message.content", equalTo(tunedAnswer));
  }

  /**
   * A job whose adapter is IA3 is served as its adapter computes, not as LoRA or its base: the
   * served tokens' log-probabilities are llm-core's with the IA3 adapter (the greedy text of this
   * tiny model may coincide with the base's; its probabilities do not).
   */
  @Test
  void anIa3JobsModelAnswersAsLlmCoreDoes() {
    assertServedAsLlmCore(IA3_JOB, ia3Dir);
  }

  /** The same for prompt tuning: its virtual tokens go before every served prompt. */
  @Test
  void aPromptTuningJobsModelAnswersAsLlmCoreDoes() {
    assertServedAsLlmCore(PROMPT_JOB, promptDir);
  }

  /** And for prefix tuning: its keys and values go before every layer's, in the served cache. */
  @Test
  void aPrefixTuningJobsModelAnswersAsLlmCoreDoes() {
    assertServedAsLlmCore(PREFIX_JOB, prefixDir);
  }

  /** And for AdaLoRA: its SVD-form updates on q_proj and v_proj. */
  @Test
  void anAdaLoraJobsModelAnswersAsLlmCoreDoes() {
    assertServedAsLlmCore(ADALORA_JOB, adaLoraDir);
  }

  void assertServedAsLlmCore(String job, Path adapter) {
    dev.tuneforge.llm.generate.Generated tuned = generated("Hello there", adapter, 0);
    dev.tuneforge.llm.generate.Generated plain = generated("Hello there", null, 0);
    double apart = 0;
    for (int i = 0; i < Math.min(tuned.logprobs().size(), plain.logprobs().size()); i++) {
      apart =
          Math.max(
              apart,
              Math.abs(tuned.logprobs().get(i).logprob() - plain.logprobs().get(i).logprob()));
    }
    assertTrue(apart > 1e-2, "the adapter acts: log-probabilities differ by " + apart);
    Response served =
        post(
            given(),
            "ft:tiny-serve:acme::" + job,
            "Hello there",
            "temperature",
            0,
            "max_tokens",
            12,
            "logprobs",
            true);
    served.then().statusCode(200).body("choices[0].message.content", equalTo(tuned.text()));
    List<Float> logprobs = served.path("choices[0].logprobs.content.logprob");
    assertEquals(tuned.logprobs().size(), logprobs.size());
    for (int i = 0; i < logprobs.size(); i++) {
      assertEquals(tuned.logprobs().get(i).logprob(), logprobs.get(i), 1e-4, "token " + i);
    }
  }

  @Test
  void streamingSendsTheSameTextInChunksAndEndsWithDone() {
    String body =
        chat(FINE_TUNED, "Stream it", true, "u").then().statusCode(200).extract().asString();
    List<String> events =
        body.lines().filter(l -> l.startsWith("data:")).map(l -> l.substring(5).strip()).toList();
    assertEquals("[DONE]", events.get(events.size() - 1));
    StringBuilder text = new StringBuilder();
    List<io.restassured.path.json.JsonPath> chunks = new ArrayList<>();
    for (String event : events.subList(0, events.size() - 1)) {
      io.restassured.path.json.JsonPath chunk = new io.restassured.path.json.JsonPath(event);
      assertEquals("chat.completion.chunk", chunk.getString("object"));
      chunks.add(chunk);
      String delta = chunk.getString("choices[0].delta.content");
      text.append(delta == null ? "" : delta);
    }
    assertEquals("assistant", chunks.get(0).getString("choices[0].delta.role"));
    assertTrue(chunks.size() >= 3, "sent in pieces: " + chunks.size());
    assertTrue(
        chunks.get(chunks.size() - 1).getString("choices[0].finish_reason") != null,
        "the last chunk carries the finish reason");
    assertEquals(expected("Stream it", true), text.toString());
  }

  @Test
  void completionsTakeSeveralPromptsAndErrorsNameTheField() {
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("model", "tiny-serve", "prompt", List.of("Once", "Twice"), "max_tokens", 5))
        .post("/v1/completions")
        .then()
        .statusCode(200)
        .body("object", equalTo("text_completion"))
        .body("choices.size()", equalTo(2))
        .body("choices[1].index", equalTo(1));
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("model", "ft:tiny-serve:acme::no-such-job", "prompt", "x"))
        .post("/v1/completions")
        .then()
        .statusCode(404)
        .body("error.code", equalTo("model_not_found"));
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("model", "tiny-serve"))
        .post("/v1/chat/completions")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("messages"));
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("model", "tiny-serve", "prompt", "x", "temperature", 3))
        .post("/v1/completions")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("temperature"));
  }

  /**
   * Message text is data: "{{ 7 * 7 }}" reaches the model as those characters (as many prompt
   * tokens as the literal conversation), not as "49".
   */
  @Test
  void templateSyntaxInAMessageIsRenderedLiterally() {
    String user = "What is {{ 7 * 7 }}?";
    int promptTokens =
        chat("tiny-serve", user, false, "u")
            .then()
            .statusCode(200)
            .extract()
            .path("usage.prompt_tokens");
    try (Tokenizer tokenizer = Tokenizer.load(base)) {
      String literal = "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
      assertEquals(tokenizer.encodePlain(literal).length, promptTokens);
      assertNotEquals(
          tokenizer.encodePlain(literal.replace("{{ 7 * 7 }}", "49")).length, promptTokens);
    }
  }

  /**
   * OpenAI's tool-calling turns are accepted: content null with tool_calls, a tool result, tools.
   */
  @Test
  void toolCallTurnsAndToolsAreAccepted() {
    Map<String, Object> call =
        Map.of(
            "id",
            "call_1",
            "type",
            "function",
            "function",
            Map.of("name", "get_weather", "arguments", "{\"city\": \"Paris\"}"));
    java.util.Map<String, Object> assistant = new java.util.HashMap<>();
    assistant.put("role", "assistant");
    assistant.put("content", "");
    assistant.put("tool_calls", List.of(call));
    given()
        .contentType(ContentType.JSON)
        .body(
            Map.of(
                "model",
                "tiny-serve",
                "max_tokens",
                4,
                "tools",
                List.of(Map.of("type", "function", "function", Map.of("name", "get_weather"))),
                "messages",
                List.of(
                    Map.of("role", "user", "content", "Weather?"),
                    assistant,
                    Map.of("role", "tool", "tool_call_id", "call_1", "content", "20C"))))
        .post("/v1/chat/completions")
        .then()
        .statusCode(200);
    // content null reaches the template as None, as in transformers; this model's template
    // concatenates it, so the template's own error comes back, naming the template
    assistant.put("content", null);
    given()
        .contentType(ContentType.JSON)
        .body(
            Map.of(
                "model",
                "tiny-serve",
                "messages",
                List.of(Map.of("role", "user", "content", "Weather?"), assistant)))
        .post("/v1/chat/completions")
        .then()
        .statusCode(400)
        .body(
            "error.message", org.hamcrest.Matchers.startsWith("chat template \"default\" failed"));
    java.util.Map<String, Object> empty = new java.util.HashMap<>();
    empty.put("role", "user");
    empty.put("content", null);
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("model", "tiny-serve", "messages", List.of(empty)))
        .post("/v1/chat/completions")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("messages[0].content"));
  }

  @Test
  void anAbModelSplitsRequestsTagsVariantsAndCountsFeedback() {
    Set<String> variants = new HashSet<>();
    String upId = null;
    for (int i = 0; i < 16; i++) {
      Response response = chat("ab:" + FINE_TUNED, "Hi", false, "user-" + i);
      response.then().statusCode(200);
      String variant = response.path("variant");
      assertEquals(variant, response.header("X-TuneForge-Variant"));
      assertEquals(variant.equals("tuned") ? FINE_TUNED : "tiny-serve", response.path("model"));
      variants.add(variant);
      if (upId == null) {
        upId = response.path("id");
      }
    }
    assertEquals(Set.of("tuned", "base"), variants, "both variants serve at a 0.5 share");
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("response_id", upId, "rating", "up"))
        .post("/v1/feedback")
        .then()
        .statusCode(200);
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("response_id", upId, "rating", "down"))
        .post("/v1/feedback")
        .then()
        .statusCode(409);
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("response_id", "chatcmpl-unknown", "rating", "up"))
        .post("/v1/feedback")
        .then()
        .statusCode(404);
    String scrape = given().get("/q/metrics").asString();
    assertTrue(scrape.contains("tuneforge_ab_feedback_total{"), scrape);
    assertTrue(scrape.contains("rating=\"up\""));
    assertTrue(scrape.contains("tuneforge_ab_responses_total{"));
    assertTrue(scrape.contains("tuneforge_ab_latency_seconds_bucket{"));
  }

  /**
   * eval-service is internal: without the service credential, or with a wrong one, it answers 401
   * in OpenAI's shape, whatever the model; health and metrics stay open to the cluster.
   */
  @Test
  void withoutTheServiceCredentialNothingIsServed() {
    for (String token : new String[] {null, "wrong-token"}) {
      io.restassured.specification.RequestSpecification request =
          token == null
              ? given().header(dev.tuneforge.testing.ServiceCredential.WITHOUT, "1")
              : given().header(ServiceAuth.TOKEN_HEADER, token);
      request
          .contentType(ContentType.JSON)
          .body(
              Map.of(
                  "model",
                  "tiny-serve",
                  "messages",
                  List.of(Map.of("role", "user", "content", "Hi"))))
          .post("/v1/chat/completions")
          .then()
          .statusCode(401)
          .body("error.code", equalTo("invalid_service_token"));
    }
    given()
        .header(dev.tuneforge.testing.ServiceCredential.WITHOUT, "1")
        .get("/q/health/live")
        .then()
        .statusCode(200);
  }

  /**
   * The tenant the gateway names may use only its own fine-tuned models and rate only responses
   * served to it: another tenant's model and response do not exist for it.
   */
  @Test
  void aNamedTenantReachesOnlyItsOwnModelsAndResponses() {
    post(given().header(ServiceAuth.TENANT_HEADER, "other"), FINE_TUNED, "Hi")
        .then()
        .statusCode(404)
        .body("error.code", equalTo("model_not_found"));
    Response served =
        post(
            given().header(ServiceAuth.TENANT_HEADER, "acme"),
            "ab:" + FINE_TUNED,
            "Hi",
            "max_tokens",
            2);
    served.then().statusCode(200);
    String id = served.path("id");
    for (String[] attempt : new String[][] {{"other", "404"}, {"acme", "200"}}) {
      given()
          .header(ServiceAuth.TENANT_HEADER, attempt[0])
          .contentType(ContentType.JSON)
          .body(Map.of("response_id", id, "rating", "up"))
          .post("/v1/feedback")
          .then()
          .statusCode(Integer.parseInt(attempt[1]));
    }
  }

  /**
   * Errors a client can read, in OpenAI's shape: a prompt past the model's 512 positions and a
   * max_tokens past what is left are 400 context_length_exceeded naming the field, a 100 kB model
   * name is a 400, a body that is not JSON is a 400, and an unknown URL a JSON 404.
   */
  @Test
  void errorsComeInOpenAiShape() {
    String longText = "a b c d e f g h i j k l m n o p ".repeat(80);
    given()
        .contentType(ContentType.JSON)
        .body(
            Map.of(
                "model",
                "tiny-serve",
                "messages",
                List.of(Map.of("role", "user", "content", longText))))
        .post("/v1/chat/completions")
        .then()
        .statusCode(400)
        .body("error.code", equalTo("context_length_exceeded"))
        .body("error.param", equalTo("messages"))
        .body(
            "error.message",
            org.hamcrest.Matchers.startsWith("This model's maximum context length is 512 tokens"));
    post(given(), "tiny-serve", "Hi", "max_tokens", 600)
        .then()
        .statusCode(400)
        .body("error.param", equalTo("max_tokens"));
    post(given(), "m".repeat(100_000), "Hi")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("model"));
    given()
        .contentType(ContentType.JSON)
        .body("{\"model\": ")
        .post("/v1/chat/completions")
        .then()
        .statusCode(400)
        .body("error.code", equalTo("invalid_json"));
    given()
        .get("/v1/no/such/route")
        .then()
        .statusCode(404)
        .contentType(ContentType.JSON)
        .body("error.code", equalTo("unknown_url"));
  }

  /**
   * Chat choices carry OpenAI's logprobs when asked (greedy: each token is the first of its top
   * list) and null otherwise; a stream with include_usage ends with a chunk of no choices and the
   * usage.
   */
  @Test
  void logprobsAndStreamedUsageAreAsOpenAiSendsThem() {
    Response asked =
        post(
            given(),
            "tiny-serve",
            "Hi",
            "temperature",
            0,
            "max_tokens",
            5,
            "logprobs",
            true,
            "top_logprobs",
            2);
    asked.then().statusCode(200);
    int tokens = asked.path("usage.completion_tokens");
    List<Map<String, Object>> content = asked.path("choices[0].logprobs.content");
    assertEquals(tokens, content.size());
    for (Map<String, Object> entry : content) {
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> top = (List<Map<String, Object>>) entry.get("top_logprobs");
      assertEquals(2, top.size());
      assertEquals(entry.get("token"), top.get(0).get("token"), "greedy picks the most likely");
      assertTrue(((Number) entry.get("logprob")).doubleValue() <= 0);
    }
    post(given(), "tiny-serve", "Hi", "max_tokens", 2)
        .then()
        .body("choices[0].containsKey('logprobs')", equalTo(true))
        .body("choices[0].logprobs", org.hamcrest.Matchers.nullValue())
        .body("choices[0].message.refusal", org.hamcrest.Matchers.nullValue());
    String streamed =
        post(
                given(),
                "tiny-serve",
                "Hi",
                "max_tokens",
                3,
                "stream",
                true,
                "stream_options",
                Map.of("include_usage", true))
            .then()
            .statusCode(200)
            .extract()
            .asString();
    List<String> chunks = streamed.lines().filter(l -> l.startsWith("data: {")).toList();
    String last = chunks.get(chunks.size() - 1);
    assertTrue(last.contains("\"choices\":[]") && last.contains("\"total_tokens\""), last);
  }

  /**
   * A stream with logprobs carries on its chunks, in order, exactly the entries of the same request
   * answered whole (greedy, so both generate the same tokens).
   */
  @Test
  void streamedLogprobsAreTheWholeAnswersInOrder() throws Exception {
    Object[] request = {"temperature", 0, "max_tokens", 8, "logprobs", true, "top_logprobs", 3};
    Response whole = post(given(), "tiny-serve", "Hi there", request);
    whole.then().statusCode(200);
    com.fasterxml.jackson.databind.ObjectMapper json =
        new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.JsonNode expected =
        json.readTree(whole.asString()).path("choices").path(0).path("logprobs").path("content");
    assertTrue(expected.size() > 0, whole.asString());
    Object[] streaming = java.util.Arrays.copyOf(request, request.length + 2);
    streaming[request.length] = "stream";
    streaming[request.length + 1] = true;
    String streamed =
        post(given(), "tiny-serve", "Hi there", streaming)
            .then()
            .statusCode(200)
            .extract()
            .asString();
    com.fasterxml.jackson.databind.node.ArrayNode entries = json.createArrayNode();
    StringBuilder text = new StringBuilder();
    for (String line : streamed.lines().filter(l -> l.startsWith("data: {")).toList()) {
      com.fasterxml.jackson.databind.JsonNode choice =
          json.readTree(line.substring("data: ".length())).path("choices").path(0);
      text.append(choice.path("delta").path("content").asText(""));
      for (com.fasterxml.jackson.databind.JsonNode entry :
          choice.path("logprobs").path("content")) {
        entries.add(entry);
      }
    }
    assertEquals(whole.path("choices[0].message.content"), text.toString());
    assertEquals(expected, entries);
  }
}
