package dev.tuneforge.servers.cli;

import dev.tuneforge.servers.KafkaServer;
import dev.tuneforge.servers.Ports;
import dev.tuneforge.servers.S3Server;
import dev.tuneforge.servers.ServerHome;
import dev.tuneforge.servers.ServerProcess;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one-machine deployment: Kafka and S3 as child processes with data under {@code <home>/data},
 * and each Quarkus service from its {@code target/quarkus-app}. Everything binds to 127.0.0.1 and
 * survives the launcher exiting; the state file lets a later call stop it.
 */
final class LocalStack {
  /** The services in start order, with their module directory and HTTP port. */
  record Service(String name, int port) {}

  static final List<Service> SERVICES =
      List.of(
          new Service("data-service", 8081),
          new Service("trainer-service", 8082),
          new Service("reward-service", 8083),
          new Service("eval-service", 8084),
          new Service("gateway", 8080));

  private static final Duration SERVICE_READY_TIMEOUT = Duration.ofSeconds(120);

  private final Path home;
  private final Path repo;
  private final StackState state;
  private final PrintWriter out;

  LocalStack(Path home, Path repo, PrintWriter out) {
    this.home = home.toAbsolutePath();
    this.repo = repo.toAbsolutePath();
    this.state = new StackState(this.home);
    this.out = out;
  }

  void up(int kafkaPort, int controllerPort, int s3Port) {
    Instant start = Instant.now();
    if (running("kafka")) {
      out.println("kafka already running: " + bootstrapServers());
    } else {
      KafkaServer kafka = KafkaServer.start(home.resolve("data/kafka"), kafkaPort, controllerPort);
      state.record("kafka", kafka.pid(), kafka.port());
      state.put("kafka.controller.port", Integer.toString(kafka.controllerPort()));
      out.println("kafka up: " + kafka.bootstrapServers() + " (pid " + kafka.pid() + ")");
    }
    if (running("s3")) {
      out.println("s3 already running: " + s3Endpoint());
    } else {
      S3Server s3 = S3Server.start(home.resolve("data/s3"), s3Port);
      state.record("s3", s3.pid(), s3.port());
      out.println("s3 up: " + s3.endpoint() + " (pid " + s3.pid() + ")");
    }
    out.printf("stack up in %.1f s; data in %s%n", seconds(start), home.resolve("data"));
  }

  void servicesUp() {
    if (!running("kafka") || !running("s3")) {
      throw new IllegalStateException(
          "the stack is not running; start it with ./tuneforge stack up");
    }
    Instant start = Instant.now();
    List<Service> started = new ArrayList<>();
    for (Service service : SERVICES) {
      if (running(service.name())) {
        out.println(service.name() + " already running on port " + service.port());
        continue;
      }
      startService(service);
      started.add(service);
    }
    for (Service service : started) {
      awaitReady(service);
    }
    out.printf("services up in %.1f s; gateway at http://127.0.0.1:8080%n", seconds(start));
  }

  void servicesDown() {
    for (int i = SERVICES.size() - 1; i >= 0; i--) {
      stop(SERVICES.get(i).name());
    }
  }

  void down() {
    servicesDown();
    stop("s3");
    stop("kafka");
  }

  void status() {
    for (String name : names()) {
      Optional<Long> pid = state.pid(name);
      boolean alive = running(name);
      String port = state.port(name).map(String::valueOf).orElse("-");
      String rss = pid.filter(p -> alive).map(LocalStack::rssMiB).orElse("-");
      out.printf(
          "%-16s %-8s port %-6s pid %-8s rss %s%n",
          name, alive ? "running" : "stopped", port, pid.map(String::valueOf).orElse("-"), rss);
    }
  }

  private List<String> names() {
    List<String> names = new ArrayList<>(List.of("kafka", "s3"));
    SERVICES.forEach(s -> names.add(s.name()));
    return names;
  }

  private void startService(Service service) {
    Path jar = repo.resolve(service.name()).resolve("target/quarkus-app/quarkus-run.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          jar
              + " is missing; build the services with `mvn -DskipTests package` (./tuneforge does)");
    }
    List<String> command =
        List.of(
            ServerHome.javaExecutable(),
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Dai.djl.offline=true",
            "-jar",
            jar.toString());
    Path log = home.resolve("logs").resolve(service.name() + ".log");
    ServerProcess process =
        ServerProcess.start(
            service.name(),
            command,
            serviceEnvironment(service),
            log,
            service.port(),
            SERVICE_READY_TIMEOUT);
    state.record(service.name(), process.pid(), service.port());
    out.println(
        service.name() + " started on port " + service.port() + " (pid " + process.pid() + ")");
  }

  private Map<String, String> serviceEnvironment(Service service) {
    Map<String, String> env = new java.util.HashMap<>();
    // Settings given to ./tuneforge (TUNEFORGE_REWARD_MODELS, TUNEFORGE_DEVICE, ...) reach every
    // service; the ones that wire the stack together (set below) win.
    System.getenv()
        .forEach(
            (name, value) -> {
              if (name.startsWith("TUNEFORGE_") && !name.equals("TUNEFORGE_HOME")) {
                env.put(name, value);
              }
            });
    env.put("TUNEFORGE_SERVICE_TOKEN", serviceToken());
    env.put("QUARKUS_HTTP_PORT", Integer.toString(service.port()));
    env.put("QUARKUS_HTTP_HOST", Ports.LOOPBACK);
    env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers());
    env.put("TUNEFORGE_STORAGE_ENDPOINT", s3Endpoint());
    env.put("TUNEFORGE_STORAGE_ACCESS_KEY", S3Server.ACCESS_KEY);
    env.put("TUNEFORGE_STORAGE_SECRET_KEY", S3Server.SECRET_KEY);
    // The gateway passes completions to eval-service, which asks reward-service to judge.
    switch (service.name()) {
      case "gateway" -> env.put("TUNEFORGE_SERVING_URL", url("eval-service"));
      case "eval-service" -> env.put("TUNEFORGE_REWARD_SERVICE_URL", url("reward-service"));
      default -> {}
    }
    return Map.copyOf(env);
  }

  /**
   * The credential between the services (eval-service and reward-service answer only callers that
   * hold it): {@code TUNEFORGE_SERVICE_TOKEN} when set, otherwise a random one kept in {@code
   * <home>/service-token}, readable by its owner only.
   */
  private String serviceToken() {
    String given = System.getenv("TUNEFORGE_SERVICE_TOKEN");
    if (given != null && !given.isBlank()) {
      return given;
    }
    Path file = home.resolve("service-token");
    try {
      if (!java.nio.file.Files.isRegularFile(file)) {
        byte[] random = new byte[24];
        new java.security.SecureRandom().nextBytes(random);
        java.nio.file.Files.createDirectories(home);
        java.nio.file.Files.writeString(file, java.util.HexFormat.of().formatHex(random));
        try {
          java.nio.file.Files.setPosixFilePermissions(
              file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException notPosix) {
          // a file system without POSIX permissions keeps its defaults
        }
      }
      return java.nio.file.Files.readString(file).strip();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot keep the service token in " + file, e);
    }
  }

  /** The local URL of a service. */
  static String url(String name) {
    return SERVICES.stream()
        .filter(s -> s.name().equals(name))
        .map(s -> "http://" + Ports.LOOPBACK + ":" + s.port())
        .findFirst()
        .orElseThrow();
  }

  private void awaitReady(Service service) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    URI ready = URI.create("http://127.0.0.1:" + service.port() + "/q/health/ready");
    Instant deadline = Instant.now().plus(SERVICE_READY_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      try {
        HttpResponse<Void> response =
            client.send(
                HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() == 200) {
          out.println(service.name() + " ready: " + ready);
          return;
        }
      } catch (Exception notYet) {
        // still starting
      }
      sleep();
    }
    throw new IllegalStateException(
        service.name()
            + " not ready within "
            + SERVICE_READY_TIMEOUT
            + "; see "
            + home.resolve("logs/" + service.name() + ".log"));
  }

  private void stop(String name) {
    Optional<Long> pid = state.pid(name);
    if (pid.isPresent() && running(name)) {
      ServerProcess.attach(name, pid.get(), home.resolve("logs")).stop();
      out.println(name + " stopped");
    }
    state.forget(name);
  }

  private boolean running(String name) {
    return state.pid(name).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false);
  }

  /** Where the local stack's Kafka listens; fails when it is not running. */
  String bootstrapServers() {
    if (!running("kafka")) {
      throw new IllegalStateException("the stack is not running; start it with ./tuneforge up");
    }
    return Ports.LOOPBACK + ":" + state.port("kafka").orElseThrow();
  }

  String s3Endpoint() {
    return "http://" + Ports.LOOPBACK + ":" + state.port("s3").orElseThrow();
  }

  private static String rssMiB(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return (kib / 1024) + " MiB";
        }
      }
    } catch (Exception unavailable) {
      // not Linux, or the process just exited
    }
    return "?";
  }

  private static double seconds(Instant start) {
    return Duration.between(start, Instant.now()).toMillis() / 1000.0;
  }

  private static void sleep() {
    try {
      Thread.sleep(250);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
