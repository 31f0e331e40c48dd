package dev.tuneforge.e2e;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.platform.storage.MinioObjectStore;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.DatasetSplit;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.TrainingRequested;
import dev.tuneforge.servers.KafkaServer;
import dev.tuneforge.servers.Ports;
import dev.tuneforge.servers.S3Server;
import dev.tuneforge.servers.ServerHome;
import dev.tuneforge.servers.ServerProcess;
import dev.tuneforge.testing.TestKafka;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
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
 * The packaged gateway, data-service and trainer-service against a real Kafka broker and S3 server,
 * driven only through the public API and the topics: a file uploaded and a job created reach the
 * trainer's input topic as a correct {@code DatasetPrepared} and the job is queued; a bad file
 * fails the job with line-precise events; a job published straight to Kafka shows in the API; a
 * restarted gateway rebuilds its view from the topics.
 */
class FineTuningFlowE2ETest {
  static final String KEY = "sk-e2e-acme-000000000000";
  static final Duration READY = Duration.ofSeconds(120);
  @TempDir static Path home;
  static KafkaServer kafka;
  static S3Server s3;
  static ObjectStore store;
  static TestKafka topics;
  static final Map<String, ServerProcess> services = new HashMap<>();
  static final Map<String, Integer> ports = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    kafka = KafkaServer.start(home.resolve("kafka"), Ports.free(), Ports.free());
    s3 = S3Server.start(home.resolve("s3"), Ports.free());
    store =
        MinioObjectStore.create(
            s3.endpoint(), "us-east-1", S3Server.ACCESS_KEY, S3Server.SECRET_KEY, "tuneforge");
    store.ensureBucket();
    Path model = home.resolve("tiny-llama");
    TinyLlama.write(model, 42, TinyLlama.Size.DEFAULT);
    try (java.util.stream.Stream<Path> files = Files.list(model)) {
      for (Path file : files.toList()) {
        store.put(
            "models/tiny-llama/" + file.getFileName(),
            Files.readAllBytes(file),
            "application/octet-stream");
      }
    }
    for (String service : List.of("data-service", "trainer-service", "eval-service", "gateway")) {
      ports.put(service, Ports.free());
      startService(service);
    }
    topics = new TestKafka(kafka.bootstrapServers());
  }

  static void startService(String name) {
    Path repo = ServerHome.dir().getParent().getParent();
    Path jar = repo.resolve(name).resolve("target/quarkus-app/quarkus-run.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: run the reactor (mvn verify) first");
    }
    Map<String, String> env = new HashMap<>();
    env.put("QUARKUS_HTTP_PORT", Integer.toString(ports.get(name)));
    env.put("QUARKUS_HTTP_HOST", Ports.LOOPBACK);
    env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    env.put("TUNEFORGE_STORAGE_ENDPOINT", s3.endpoint());
    env.put("TUNEFORGE_STORAGE_ACCESS_KEY", S3Server.ACCESS_KEY);
    env.put("TUNEFORGE_STORAGE_SECRET_KEY", S3Server.SECRET_KEY);
    env.put("TUNEFORGE_API_KEYS", KEY + "=acme");
    env.put("TUNEFORGE_DATA_MODEL_CACHE", home.resolve("model-cache-" + name).toString());
    List<String> command =
        List.of(
            ServerHome.javaExecutable(),
            "-Xmx384m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Dai.djl.offline=true",
            "-Djava.io.tmpdir=" + home,
            "-jar",
            jar.toString());
    services.put(
        name,
        ServerProcess.start(
            name, command, env, home.resolve(name + ".log"), ports.get(name), READY));
    awaitReady(name);
  }

  static void awaitReady(String name) {
    Awaitility.await()
        .atMost(READY)
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .untilAsserted(
            () -> given().port(ports.get(name)).get("/q/health/ready").then().statusCode(200));
  }

  @AfterAll
  static void stop() {
    services.values().forEach(ServerProcess::stop);
    if (topics != null) {
      topics.close();
    }
    if (s3 != null) {
      s3.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  static RequestSpecification api() {
    return given().port(ports.get("gateway")).header("Authorization", "Bearer " + KEY);
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

  static String upload(String name, String content) {
    return api()
        .multiPart("file", name, content.getBytes(StandardCharsets.UTF_8))
        .multiPart("purpose", "fine-tune")
        .post("/v1/files")
        .then()
        .statusCode(200)
        .extract()
        .path("id");
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
  void anUploadedFileAndACreatedJobReachTheTrainerAndTheJobIsQueued() {
    String file = upload("support.jsonl", chat(60));
    String job = createJob(file);

    DatasetPrepared prepared =
        topics.awaitEvents(DatasetPrepared.class, 1, e -> job.equals(e.getJobId())).get(0);
    Map<String, Long> splits =
        prepared.getSplitsList().stream()
            .collect(Collectors.toMap(DatasetSplit::getName, DatasetSplit::getExamples));
    assertEquals(Map.of("train", 48L, "validation", 6L, "test", 6L), splits);
    assertEquals(JobSpec.Method.LORA, prepared.getSpec().getMethod());
    assertEquals("acme", prepared.getSpec().getTenant());
    for (DatasetSplit split : prepared.getSplitsList()) {
      String jsonl = new String(store.getBytes(split.getObjectKey()), StandardCharsets.UTF_8);
      assertEquals(split.getExamples(), jsonl.lines().count(), split.getName());
    }
    assertTrue(store.stat(prepared.getManifestKey()).isPresent(), "committed by its manifest");

    awaitTrained(job);
    String events = api().get("/v1/fine_tuning/jobs/" + job + "/events").asString();
    assertTrue(events.contains("dataset prepared: 60 records in; train 48"), events);
    assertTrue(events.contains("QUEUED"), events);
    assertTrue(events.contains("training started: lora"), events);
    assertTrue(events.contains("\"type\":\"metrics\""), "progress events: " + events);
    api()
        .get("/v1/fine_tuning/jobs/" + job + "/checkpoints")
        .then()
        .body("data[0].id", equalTo("final"))
        .body("data[0].fine_tuned_model_checkpoint", equalTo("jobs/" + job + "/final/"));
    assertTrue(store.stat("jobs/" + job + "/final/adapter_config.json").isPresent());
    assertTrue(events.contains("evaluated on 6 test records"), events);
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
    assertTrue(
        perplexity.getCheckpointValue() < perplexity.getBaseValue(),
        "the tuned model fits the held-out test split better than its base: " + perplexity);
    assertTrue(store.stat(eval.getReportKey()).isPresent(), "report under jobs/{id}/evals/");
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
    ServerProcess trainer = services.get("trainer-service");
    ProcessHandle killed = ProcessHandle.of(trainer.pid()).orElseThrow();
    killed.destroyForcibly(); // SIGKILL: no shutdown hook, no last checkpoint
    killed.onExit().get();
    startService("trainer-service");

    awaitTrained(job);
    String events = api().get("/v1/fine_tuning/jobs/" + job + "/events").asString();
    assertTrue(events.contains("training resumed from checkpoint-"), events);
    java.util.SortedMap<Long, Double> expected = losses(reference);
    java.util.SortedMap<Long, Double> resumed = losses(job);
    assertEquals(expected.keySet(), resumed.keySet(), "every logged step reported");
    for (long step : expected.keySet()) {
      assertEquals(expected.get(step), resumed.get(step), 1e-6, "loss at step " + step);
    }
    assertTrue(store.stat("jobs/" + job + "/final/adapter_model.safetensors").isPresent());
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
    String events = api().get("/v1/fine_tuning/jobs/" + job + "/events").asString();
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

    services.get("gateway").stop();
    startService("gateway");
    awaitTrained(job);
    String events = api().get("/v1/fine_tuning/jobs/" + job + "/events").asString();
    assertTrue(events.contains("dataset prepared: 200 records in"), events);
  }
}
