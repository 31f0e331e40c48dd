package dev.tuneforge.e2e;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.DatasetSplit;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.TrainingRequested;
import dev.tuneforge.testing.TestKafka;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged gateway, data-service, trainer-service and eval-service against a real Kafka broker
 * and S3 server, driven only through the public API and the topics: an instruction dataset uploaded
 * and a LoRA job created go through every stage, the tuned model beats its base on the held-out
 * test split and answers chat completions through the gateway; a killed trainer is replaced and the
 * job resumes with the same loss curve; a bad file fails the job with line-precise events; a job
 * published straight to Kafka shows in the API and survives a gateway restart.
 */
class FineTuningFlowE2ETest {
  static final String KEY = E2eStack.KEY;
  @TempDir static Path home;
  static E2eStack stack;
  static ObjectStore store;
  static TestKafka topics;

  @BeforeAll
  static void start() throws Exception {
    stack = new E2eStack(home);
    store = stack.store;
    topics = stack.topics;
    for (String service : List.of("data-service", "trainer-service", "eval-service")) {
      stack.start(service);
    }
    stack.start("gateway", "gateway", Map.of("TUNEFORGE_SERVING_URL", stack.url("eval-service")));
  }

  static void startService(String name) {
    stack.start(name);
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  static RequestSpecification api() {
    return stack.api();
  }

  static String chat(int records) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < records; i++) {
      out.append("{\"messages\":[{\"role\":\"user\",\"content\":\"question ")
          .append(i)
          .append("\"},{\"role\":\"assistant\",\"content\":\"answer ")
          .append(i)
          .append("\"}]}\n");
    }
    return out.toString();
  }

  /** An instruction task a tiny model learns: whether a number is even or odd. */
  static String parity(int records, long seed) {
    List<Integer> numbers = new java.util.ArrayList<>();
    for (int x = 100; x < 10_000; x++) {
      numbers.add(x);
    }
    java.util.Collections.shuffle(numbers, new java.util.Random(seed));
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < records; i++) {
      int x = numbers.get(i); // distinct: data-service drops duplicates
      out.append("{\"messages\":[{\"role\":\"user\",\"content\":\"Is ")
          .append(x)
          .append(" even or odd?\"},{\"role\":\"assistant\",\"content\":\"")
          .append(x % 2 == 0 ? "even" : "odd")
          .append("\"}]}\n");
    }
    return out.toString();
  }

  static String upload(String name, String content) {
    return stack.upload(name, content);
  }

  static String createJob(String file) {
    return api()
        .contentType(ContentType.JSON)
        .body(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + file
                + "\", \"adapter\": {\"type\": \"lora\", \"r\": 8}}")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(200)
        .body("status", equalTo("validating_files"))
        .extract()
        .path("id");
  }

  static void awaitStatus(String job, String status) {
    await(job, "status", status);
  }

  /** Waits until the job has trained and been evaluated. */
  static void awaitTrained(String job) {
    try {
      await(job, "status", "succeeded");
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          "job " + job + " did not train: " + api().get("/v1/fine_tuning/jobs/" + job).asString(),
          e);
    }
  }

  static void await(String job, String field, String value) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () ->
                api()
                    .get("/v1/fine_tuning/jobs/" + job)
                    .then()
                    .statusCode(200)
                    .body(field, equalTo(value)));
  }

  @Test
  void aLoraJobTrainsIsEvaluatedAgainstItsBaseAndServesChatCompletions() {
    String file = upload("parity.jsonl", parity(600, 1));
    String job =
        api()
            .contentType(ContentType.JSON)
            .body(
                "{\"model\": \"tiny-llama\", \"training_file\": \""
                    + file
                    + "\", \"adapter\": {\"type\": \"lora\", \"r\": 8}, \"method\": {\"type\":"
                    + " \"supervised\", \"supervised\": {\"hyperparameters\": {\"n_epochs\": 6,"
                    + " \"batch_size\": 8, \"learning_rate\": 5e-3, \"logging_steps\": 20}}}}")
            .post("/v1/fine_tuning/jobs")
            .then()
            .statusCode(200)
            .body("status", equalTo("validating_files"))
            .extract()
            .path("id");

    DatasetPrepared prepared =
        topics.awaitEvents(DatasetPrepared.class, 1, e -> job.equals(e.getJobId())).get(0);
    Map<String, Long> splits =
        prepared.getSplitsList().stream()
            .collect(Collectors.toMap(DatasetSplit::getName, DatasetSplit::getExamples));
    assertEquals(Map.of("train", 480L, "validation", 60L, "test", 60L), splits);
    assertEquals(JobSpec.Method.LORA, prepared.getSpec().getMethod());
    assertEquals("acme", prepared.getSpec().getTenant());
    for (DatasetSplit split : prepared.getSplitsList()) {
      String jsonl = new String(store.getBytes(split.getObjectKey()), StandardCharsets.UTF_8);
      assertEquals(split.getExamples(), jsonl.lines().count(), split.getName());
    }
    assertTrue(store.stat(prepared.getManifestKey()).isPresent(), "committed by its manifest");

    awaitTrained(job);
    // Every stage shows in the job's events, in order.
    String events = stack.events(job);
    List<String> stages =
        List.of(
            "dataset prepared: 600 records in; train 480",
            "QUEUED",
            "training started: lora",
            "\"type\":\"metrics\"",
            "EVALUATING",
            "SUCCEEDED: evaluated on 60 test records");
    for (String stage : stages) {
      assertTrue(events.contains(stage), stage + " in " + events);
    }
    api()
        .get("/v1/fine_tuning/jobs/" + job + "/checkpoints?limit=100")
        .then()
        .body("data[0].id", equalTo("final"))
        .body("data[0].fine_tuned_model_checkpoint", equalTo("jobs/" + job + "/final/"))
        .body("data.id", org.hamcrest.Matchers.hasItems("step-100", "step-200", "step-300"));
    assertTrue(store.stat("jobs/" + job + "/final/adapter_config.json").isPresent());
    dev.tuneforge.proto.v1.EvalCompleted eval =
        topics
            .awaitEvents(
                dev.tuneforge.proto.v1.EvalCompleted.class, 1, e -> job.equals(e.getJobId()))
            .get(0);
    Map<String, dev.tuneforge.proto.v1.MetricResult> metrics =
        eval.getMetricsList().stream()
            .collect(Collectors.toMap(dev.tuneforge.proto.v1.MetricResult::getName, m -> m));
    var perplexity = metrics.get("perplexity");
    assertTrue(
        perplexity.getCheckpointValue() < perplexity.getBaseValue(),
        "the tuned model fits the held-out test split better than its base: " + perplexity);
    var exact = metrics.get("exact_match");
    assertTrue(
        exact.getCheckpointValue() > exact.getBaseValue() && exact.getCheckpointValue() >= 0.75,
        "the tuned model answers held-out questions right, its base does not: " + exact);
    assertTrue(metrics.containsKey("accuracy") && metrics.containsKey("f1"), "labels: " + metrics);
    assertTrue(store.stat(eval.getReportKey()).isPresent(), "report under jobs/{id}/evals/");

    // The fine-tuned model answers through the gateway as the evaluation saw it answer.
    String model =
        api().get("/v1/fine_tuning/jobs/" + job).then().extract().path("fine_tuned_model");
    assertEquals("ft:tiny-llama:acme::" + job, model);
    // trained_tokens: the training split's tokens, as data-service counted them, times the epochs.
    Number trainedTokens =
        api().get("/v1/fine_tuning/jobs/" + job).then().extract().path("trained_tokens");
    assertTrue(
        trainedTokens != null && trainedTokens.longValue() > 0, "trained_tokens " + trainedTokens);
    String firstTest =
        new String(store.getBytes("datasets/" + job + "/test.jsonl"), StandardCharsets.UTF_8)
            .lines()
            .findFirst()
            .orElseThrow();
    String question =
        com.google.gson.JsonParser.parseString(firstTest)
            .getAsJsonObject()
            .getAsJsonArray("messages")
            .get(0)
            .getAsJsonObject()
            .get("content")
            .getAsString();
    String answer =
        api()
            .contentType(ContentType.JSON)
            .body(
                Map.of(
                    "model",
                    model,
                    "temperature",
                    0,
                    "messages",
                    List.of(Map.of("role", "user", "content", question))))
            .post("/v1/chat/completions")
            .then()
            .statusCode(200)
            .body("object", equalTo("chat.completion"))
            .extract()
            .path("choices[0].message.content");
    String reported =
        com.google.gson.JsonParser.parseString(
                new String(store.getBytes(eval.getReportKey()), StandardCharsets.UTF_8))
            .getAsJsonObject()
            .getAsJsonArray("samples")
            .get(0)
            .getAsJsonObject()
            .get("tuned")
            .getAsString();
    assertEquals(reported, answer.strip(), "served as evaluated: " + question);
    String streamed =
        api()
            .contentType(ContentType.JSON)
            .body(
                Map.of(
                    "model",
                    model,
                    "temperature",
                    0,
                    "stream",
                    true,
                    "messages",
                    List.of(Map.of("role", "user", "content", question))))
            .post("/v1/chat/completions")
            .then()
            .statusCode(200)
            .extract()
            .asString();
    assertTrue(streamed.strip().endsWith("data: [DONE]"), streamed);

    // A second tenant cannot use the model, by its name or by one with its own tenant written in;
    // eval-service itself answers no one without the service credential.
    for (String forged : List.of(model, "ft:tiny-llama:globex::" + job, "ab:" + model)) {
      stack
          .globex()
          .contentType(ContentType.JSON)
          .body(
              Map.of("model", forged, "messages", List.of(Map.of("role", "user", "content", "hi"))))
          .post("/v1/chat/completions")
          .then()
          .statusCode(404)
          .body("error.code", equalTo("model_not_found"));
    }
    io.restassured.RestAssured.given()
        .baseUri(stack.url("eval-service"))
        .contentType(ContentType.JSON)
        .body(Map.of("model", model, "messages", List.of(Map.of("role", "user", "content", "hi"))))
        .post("/v1/chat/completions")
        .then()
        .statusCode(401);
  }

  static String createLongJob(String file) {
    return api()
        .contentType(ContentType.JSON)
        .body(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + file
                + "\", \"seed\": 5, \"adapter\": {\"type\": \"lora\", \"r\": 8},"
                + " \"method\": {\"type\": \"supervised\", \"supervised\": {\"hyperparameters\":"
                + " {\"max_steps\": 900, \"save_steps\": 100, \"logging_steps\": 50,"
                + " \"batch_size\": 8, \"learning_rate\": 1e-3}}}}")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(200)
        .extract()
        .path("id");
  }

  /** The last reported loss of every logged step of a job. */
  static java.util.SortedMap<Long, Double> losses(String job) {
    java.util.SortedMap<Long, Double> losses = new java.util.TreeMap<>();
    topics
        .readAll(
            dev.tuneforge.proto.Topics.TRAINING_PROGRESS,
            r ->
                TestKafka.is(
                    r,
                    dev.tuneforge.proto.v1.TrainingProgress.class,
                    p -> job.equals(p.getJobId())))
        .forEach(
            r -> {
              var p =
                  dev.tuneforge.proto.EventCodec.parse(
                      r.value(), dev.tuneforge.proto.v1.TrainingProgress.class);
              losses.put(p.getStep(), p.getLoss());
            });
    return losses;
  }

  /**
   * An IA3 job through the API: trained by the trainer (PEFT's llama defaults: k_proj, v_proj,
   * down_proj), saved as a PEFT IA3 adapter, evaluated against its base on the held-out test split
   * (where its perplexity is lower) and served through the gateway.
   */
  @Test
  void anIa3JobTrainsBeatsItsBaseOnHeldOutDataAndServes() {
    adapterJobBeatsItsBaseAndServes("ia3", "{\"type\": \"ia3\"}", 0.1, "IA3");
  }

  /**
   * A prompt tuning job through the API: 8 virtual tokens initialised from a text (the model's
   * tokenizer encodes it in the trainer), saved as a PEFT prompt tuning adapter, lower held-out
   * perplexity than its base, served through the gateway.
   */
  @Test
  void aPromptTuningJobTrainsBeatsItsBaseOnHeldOutDataAndServes() {
    adapterJobBeatsItsBaseAndServes(
        "prompt",
        "{\"type\": \"prompt\", \"num_virtual_tokens\": 8, \"prompt_tuning_init\": \"TEXT\","
            + " \"prompt_tuning_init_text\": \"Answer even or odd\"}",
        0.03,
        "PROMPT_TUNING");
  }

  /**
   * A prefix tuning job through the API: 10 prefix keys and values per layer trained through PEFT's
   * projection MLP, saved as a PEFT prefix tuning adapter, lower held-out perplexity than its base,
   * served through the gateway.
   */
  @Test
  void aPrefixTuningJobTrainsBeatsItsBaseOnHeldOutDataAndServes() {
    adapterJobBeatsItsBaseAndServes(
        "prefix",
        "{\"type\": \"prefix\", \"num_virtual_tokens\": 10, \"prefix_projection\": true,"
            + " \"encoder_hidden_size\": 64}",
        0.01,
        "PREFIX_TUNING");
  }

  /**
   * An AdaLoRA job through the API: init_r 8 pruned to 4 on every projection while it trains, saved
   * as a PEFT AdaLoRA adapter with its rank pattern, lower held-out perplexity than its base,
   * served through the gateway.
   */
  @Test
  void anAdaLoraJobTrainsBeatsItsBaseOnHeldOutDataAndServes() {
    adapterJobBeatsItsBaseAndServes(
        "adalora",
        "{\"type\": \"adalora\", \"init_r\": 8, \"target_r\": 4, \"tinit\": 10, \"tfinal\": 20,"
            + " \"deltaT\": 5, \"lora_alpha\": 16, \"target_modules\": \"all-linear\"}",
        0.01,
        "ADALORA");
  }

  void adapterJobBeatsItsBaseAndServes(
      String name, String adapter, double learningRate, String peftType) {
    String file = upload("parity-" + name + ".jsonl", parity(600, 3));
    String job =
        api()
            .contentType(ContentType.JSON)
            .body(
                "{\"model\": \"tiny-llama\", \"training_file\": \""
                    + file
                    + "\", \"adapter\": "
                    + adapter
                    + ", \"method\": {\"type\":"
                    + " \"supervised\", \"supervised\": {\"hyperparameters\": {\"n_epochs\": 2,"
                    + " \"batch_size\": 8, \"learning_rate\": "
                    + learningRate
                    + "}}}}")
            .post("/v1/fine_tuning/jobs")
            .then()
            .statusCode(200)
            .extract()
            .path("id");
    awaitTrained(job);
    String config =
        new String(
            store.getBytes("jobs/" + job + "/final/adapter_config.json"), StandardCharsets.UTF_8);
    assertTrue(config.contains("\"peft_type\": \"" + peftType + "\""), config);
    dev.tuneforge.proto.v1.EvalCompleted eval =
        topics
            .awaitEvents(
                dev.tuneforge.proto.v1.EvalCompleted.class, 1, e -> job.equals(e.getJobId()))
            .get(0);
    var perplexity =
        eval.getMetricsList().stream()
            .filter(m -> m.getName().equals("perplexity"))
            .findFirst()
            .orElseThrow();
    System.out.printf(
        "%s job %s: held-out perplexity %.2f (base %.2f)%n",
        peftType, job, perplexity.getCheckpointValue(), perplexity.getBaseValue());
    assertTrue(
        perplexity.getCheckpointValue() < perplexity.getBaseValue(),
        peftType + " fits the held-out test split better than its base: " + perplexity);
    String model =
        api().get("/v1/fine_tuning/jobs/" + job).then().extract().path("fine_tuned_model");
    api()
        .contentType(ContentType.JSON)
        .body(
            Map.of(
                "model",
                model,
                "messages",
                List.of(Map.of("role", "user", "content", "Is 4242 even or odd?")),
                "max_tokens",
                4))
        .post("/v1/chat/completions")
        .then()
        .statusCode(200)
        .body("model", equalTo(model));
  }

  @Test
  void aKilledTrainerIsReplacedAndTheJobResumesWithTheSameLossCurve() throws Exception {
    String data = chat(200);
    String reference = createLongJob(upload("reference.jsonl", data));
    awaitTrained(reference);
    String job = createLongJob(upload("crashed.jsonl", data));
    topics.awaitEvents(
        dev.tuneforge.proto.v1.CheckpointSaved.class,
        1,
        c -> job.equals(c.getJobId()) && c.getStep() >= 300);
    stack.kill("trainer-service"); // SIGKILL: no shutdown hook, no last checkpoint
    startService("trainer-service");

    awaitTrained(job);
    String events = stack.events(job);
    assertTrue(events.contains("training resumed from checkpoint-"), events);
    java.util.SortedMap<Long, Double> expected = losses(reference);
    java.util.SortedMap<Long, Double> resumed = losses(job);
    assertEquals(expected.keySet(), resumed.keySet(), "every logged step reported");
    for (long step : expected.keySet()) {
      assertEquals(expected.get(step), resumed.get(step), 1e-6, "loss at step " + step);
    }
    assertTrue(store.stat("jobs/" + job + "/final/adapter_model.safetensors").isPresent());
  }

  /**
   * A cancel sent while the job is still validating its file holds on the real stack: the job reads
   * back cancelled, no trainer trains it (no progress, no final model), and a second cancel is
   * refused; a running job that is cancelled stops, and its later statuses do not revive it.
   */
  @Test
  void aCancelAtAnyStageEndsTheJobCancelledAndNothingTrains() {
    String early = createLongJob(upload("cancel-early.jsonl", chat(200)));
    api()
        .post("/v1/fine_tuning/jobs/" + early + "/cancel")
        .then()
        .statusCode(200)
        .body("status", equalTo("cancelled"));
    String running = createLongJob(upload("cancel-running.jsonl", chat(200)));
    topics.awaitEvents(
        dev.tuneforge.proto.v1.TrainingProgress.class, 1, p -> running.equals(p.getJobId()));
    api().post("/v1/fine_tuning/jobs/" + running + "/cancel").then().statusCode(200);
    // the trainer stops the running job and records how it ended
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofMinutes(2))
        .until(() -> store.stat("jobs/" + running + "/ended.json").isPresent());
    for (String job : List.of(early, running)) {
      api()
          .get("/v1/fine_tuning/jobs/" + job)
          .then()
          .body("status", equalTo("cancelled"))
          .body("fine_tuned_model", org.hamcrest.Matchers.nullValue());
      api().post("/v1/fine_tuning/jobs/" + job + "/cancel").then().statusCode(400);
      assertTrue(store.stat("jobs/" + job + "/final/manifest.json").isEmpty(), job);
    }
    assertTrue(losses(early).isEmpty(), "the job cancelled while validating never trained");
  }

  @Test
  void aBadFileFailsTheJobAndItsEventsNameEachLine() {
    String bad =
        chat(1)
            + "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistent\",\"content\":\"yo\"}]}\n"
            + "{\"messages\":[{\"role\":\"user\",\"content\":\"\"},{\"role\":\"assistant\",\"content\":\"yo\"}]}\n";
    String job = createJob(upload("bad.jsonl", bad));
    awaitStatus(job, "failed");
    api()
        .get("/v1/fine_tuning/jobs/" + job)
        .then()
        .body("error.code", equalTo("invalid_training_file"))
        .body("error.param", equalTo("training_file"));
    String events = stack.events(job);
    assertTrue(
        events.contains(
            "training_file line 2: messages[1].role \\\"assistent\\\" is not one of"
                + " system|user|assistant|tool"),
        events);
    assertTrue(events.contains("training_file line 3: messages[0].content is empty"), events);
  }

  @Test
  void aJobPublishedStraightToKafkaShowsInTheApiAndSurvivesAGatewayRestart() {
    String job = "kafka-" + UUID.randomUUID();
    store.put(
        "uploads/acme/" + job + ".jsonl",
        chat(200).getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");
    JobSpec spec =
        SampleEvents.jobSpec(job).toBuilder()
            .setDataset(
                SampleEvents.jobSpec(job).getDataset().toBuilder()
                    .setTrainingFile("uploads/acme/" + job + ".jsonl"))
            .build();
    topics.publish(TrainingRequested.newBuilder().setSpec(spec).build());
    awaitTrained(job);

    stack.services.get("gateway").stop();
    startService("gateway");
    awaitTrained(job);
    String events = stack.events(job);
    assertTrue(events.contains("dataset prepared: 200 records in"), events);
  }
}
