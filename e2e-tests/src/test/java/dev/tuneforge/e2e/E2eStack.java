package dev.tuneforge.e2e;

import static io.restassured.RestAssured.given;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.platform.storage.MinioObjectStore;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.servers.KafkaServer;
import dev.tuneforge.servers.Ports;
import dev.tuneforge.servers.S3Server;
import dev.tuneforge.servers.ServerHome;
import dev.tuneforge.servers.ServerProcess;
import dev.tuneforge.testing.TestKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;

/**
 * A real Kafka broker and S3 server, a tiny Llama in the bucket as {@code models/tiny-llama/}, and
 * packaged services started as processes: each by a name of its own (two replicas of one service
 * have two names) running its module's {@code quarkus-run.jar}.
 */
final class E2eStack implements AutoCloseable {
  static final String KEY = "sk-e2e-acme-000000000000";

  /** The key of a second tenant, globex. */
  static final String GLOBEX_KEY = "sk-e2e-globex-0000000000";

  static final Duration READY = Duration.ofSeconds(120);

  final Path home;
  final KafkaServer kafka;
  final S3Server s3;
  final ObjectStore store;
  final TestKafka topics;
  final Map<String, ServerProcess> services = new HashMap<>();
  final Map<String, Integer> ports = new HashMap<>();
  private final Map<String, String> modules = new HashMap<>();
  private final Map<String, Map<String, String>> extraEnv = new HashMap<>();

  E2eStack(Path home) throws Exception {
    this.home = home;
    kafka = KafkaServer.start(home.resolve("kafka"), Ports.free(), Ports.free());
    s3 = S3Server.start(home.resolve("s3"), Ports.free());
    store =
        MinioObjectStore.create(
            s3.endpoint(), "us-east-1", S3Server.ACCESS_KEY, S3Server.SECRET_KEY, "tuneforge");
    store.ensureBucket();
    Path model = home.resolve("tiny-llama");
    TinyLlama.write(model, 42, TinyLlama.Size.DEFAULT);
    putDirectory(model, "models/tiny-llama/");
    topics = new TestKafka(kafka.bootstrapServers());
  }

  void putDirectory(Path dir, String prefix) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      for (Path file : files.toList()) {
        store.put(
            prefix + file.getFileName(), Files.readAllBytes(file), "application/octet-stream");
      }
    }
  }

  /**
   * The credential between the services of this stack (eval-service and reward-service need it).
   */
  static final String SERVICE_TOKEN = java.util.UUID.randomUUID().toString();

  /** A request to the gateway with the acme tenant's key. */
  io.restassured.specification.RequestSpecification api() {
    return given().port(ports.get("gateway")).header("Authorization", "Bearer " + KEY);
  }

  /**
   * Every event of a job, oldest first, as one JSON array text: the API lists them newest first in
   * pages, which this follows to the end.
   */
  String events(String job) {
    List<Object> all = new java.util.ArrayList<>();
    String after = null;
    while (true) {
      io.restassured.response.Response page =
          api()
              .queryParam("limit", 100)
              .queryParams(after == null ? Map.of() : Map.of("after", after))
              .get("/v1/fine_tuning/jobs/" + job + "/events");
      List<Map<String, Object>> data = page.path("data");
      all.addAll(data);
      if (data.isEmpty() || !Boolean.TRUE.equals(page.path("has_more"))) {
        break;
      }
      after = (String) data.get(data.size() - 1).get("id");
    }
    java.util.Collections.reverse(all);
    return new com.google.gson.GsonBuilder().disableHtmlEscaping().create().toJson(all);
  }

  /** A request to the gateway with the globex tenant's key. */
  io.restassured.specification.RequestSpecification globex() {
    return given().port(ports.get("gateway")).header("Authorization", "Bearer " + GLOBEX_KEY);
  }

  /** Uploads {@code content} through the gateway; returns the file id. */
  String upload(String name, String content) {
    return api()
        .multiPart("file", name, content.getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .multiPart("purpose", "fine-tune")
        .post("/v1/files")
        .then()
        .statusCode(200)
        .extract()
        .path("id");
  }

  /** The base URL of a started service. */
  String url(String name) {
    return "http://" + Ports.LOOPBACK + ":" + ports.get(name);
  }

  /** Starts service module {@code module} as {@code name}, with {@code env} added. */
  void start(String name, String module, Map<String, String> env) {
    modules.put(name, module);
    extraEnv.put(name, Map.copyOf(env));
    ports.put(name, Ports.free());
    start(name);
  }

  /** Starts a service whose module is its name. */
  void start(String name) {
    if (!modules.containsKey(name)) {
      start(name, name, Map.of());
      return;
    }
    Path repo = ServerHome.dir().getParent().getParent();
    Path jar = repo.resolve(modules.get(name)).resolve("target/quarkus-app/quarkus-run.jar");
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
    env.put("TUNEFORGE_API_KEYS", KEY + "=acme," + GLOBEX_KEY + "=globex");
    env.put("TUNEFORGE_SERVICE_TOKEN", SERVICE_TOKEN);
    env.put("TUNEFORGE_DATA_MODEL_CACHE", home.resolve("model-cache-" + name).toString());
    env.putAll(extraEnv.get(name));
    List<String> command =
        List.of(
            ServerHome.javaExecutable(),
            "-Xmx384m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Dai.djl.offline=true",
            "-Djava.io.tmpdir=" + home.resolve("tmp-" + name),
            "-jar",
            jar.toString());
    try {
      Files.createDirectories(home.resolve("tmp-" + name));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    services.put(
        name, ServerProcess.start(name, command, env, logFile(name), ports.get(name), READY));
    awaitReady(name);
  }

  /** Each service's log, kept under e2e-tests/target/e2e-logs/ for a failed run to be read. */
  static Path logFile(String name) {
    Path dir = ServerHome.dir().getParent().getParent().resolve("e2e-tests/target/e2e-logs");
    try {
      Files.createDirectories(dir);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return dir.resolve(name + ".log");
  }

  void awaitReady(String name) {
    Awaitility.await()
        .atMost(READY)
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .untilAsserted(
            () -> given().port(ports.get(name)).get("/q/health/ready").then().statusCode(200));
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed. */
  void kill(String name) throws Exception {
    ProcessHandle killed = ProcessHandle.of(services.get(name).pid()).orElseThrow();
    killed.destroyForcibly();
    killed.onExit().get();
  }

  @Override
  public void close() {
    services.values().forEach(ServerProcess::stop);
    topics.close();
    s3.close();
    kafka.close();
  }
}
