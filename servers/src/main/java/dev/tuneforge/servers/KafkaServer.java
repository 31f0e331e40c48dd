package dev.tuneforge.servers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A single-node KRaft Kafka broker ({@code kafka.Kafka} from {@code kafka_2.13}) in its own JVM.
 * The log directory is formatted once; a restart on the same directory and ports keeps every
 * committed record. Topics are auto-created. Settings follow the verified recipe in
 * shared/notes/infra-spike.md (replication factors 1, 2 MiB cleaner buffer).
 */
public final class KafkaServer implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private final Path dataDir;
  private final int port;
  private final int controllerPort;
  private ServerProcess process;

  private KafkaServer(Path dataDir, int port, int controllerPort) {
    this.dataDir = dataDir;
    this.port = port;
    this.controllerPort = controllerPort;
  }

  /** Starts a broker on {@code port} (0 picks a free one) keeping its data in {@code dataDir}. */
  public static KafkaServer start(Path dataDir, int port, int controllerPort) {
    KafkaServer server =
        new KafkaServer(
            dataDir.toAbsolutePath(),
            port == 0 ? Ports.free() : port,
            controllerPort == 0 ? Ports.free() : controllerPort);
    server.start();
    return server;
  }

  /** Attaches to a broker started earlier by pid, e.g. from the local stack's state file. */
  public static KafkaServer attach(Path dataDir, int port, int controllerPort, long pid) {
    KafkaServer server = new KafkaServer(dataDir, port, controllerPort);
    server.process = ServerProcess.attach("kafka", pid, dataDir.resolve("kafka.log"));
    return server;
  }

  /** Starts the broker process and waits until it answers a cluster description. */
  public synchronized void start() {
    if (process != null && process.isAlive()) {
      return;
    }
    Path config = writeConfig();
    String classpath = ServerHome.kafkaClasspath();
    if (!Files.exists(dataDir.resolve("kraft-logs/meta.properties"))) {
      format(classpath, config);
    }
    List<String> command = new ArrayList<>();
    command.add(ServerHome.javaExecutable());
    command.addAll(
        List.of(
            "-Xms128m",
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Dlog4j2.configurationFile=" + writeLogConfig(),
            "-Dkafka.logs.dir=" + dataDir.resolve("logs"),
            "-cp",
            classpath,
            "kafka.Kafka",
            config.toString()));
    process =
        ServerProcess.start("kafka", command, dataDir.resolve("kafka.log"), port, START_TIMEOUT);
    awaitReady();
  }

  /** Controlled shutdown; the data directory stays. */
  public synchronized void stop() {
    if (process != null) {
      process.stop();
    }
  }

  /** Stop, then start again on the same ports and data. */
  public void restart() {
    stop();
    start();
  }

  public String bootstrapServers() {
    return Ports.LOOPBACK + ":" + port;
  }

  public int port() {
    return port;
  }

  public int controllerPort() {
    return controllerPort;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  @Override
  public void close() {
    stop();
  }

  private void awaitReady() {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    try (Admin admin = Admin.create(props)) {
      admin.describeCluster().nodes().get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      stop();
      throw new IllegalStateException(
          "kafka at " + bootstrapServers() + " did not become ready; see " + process.logFile(), e);
    }
  }

  private void format(String classpath, Path config) {
    List<String> command =
        List.of(
            ServerHome.javaExecutable(),
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Dlog4j2.configurationFile=" + writeLogConfig(),
            "-cp",
            classpath,
            "kafka.tools.StorageTool",
            "format",
            // "=" form: a random id may start with '-', which argparse would take for an option.
            "--cluster-id=" + clusterId(),
            "-c",
            config.toString());
    try {
      Process format =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(dataDir.resolve("kafka.log").toFile()))
              .start();
      if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
        format.destroyForcibly();
        throw new IllegalStateException(
            "formatting the Kafka log directory failed; see " + dataDir.resolve("kafka.log"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding. */
  private static String clusterId() {
    UUID uuid = UUID.randomUUID();
    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(16);
    bytes.putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
  }

  private Path writeConfig() {
    String config =
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
            "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
            "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs=" + dataDir.resolve("kraft-logs"),
            "num.partitions=1",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "log.cleaner.dedupe.buffer.size=2097152",
            "auto.create.topics.enable=true",
            "log.flush.interval.messages=1",
            "");
    return write("server.properties", config);
  }

  private Path writeLogConfig() {
    String config =
        String.join(
            "\n",
            "status = error",
            "appender.console.type = Console",
            "appender.console.name = console",
            "appender.console.layout.type = PatternLayout",
            "appender.console.layout.pattern = [%d] %p %m (%c)%n",
            "rootLogger.level = WARN",
            "rootLogger.appenderRef.console.ref = console",
            "logger.server.name = kafka.server.KafkaRaftServer",
            "logger.server.level = INFO",
            "");
    return write("log4j2.properties", config);
  }

  private Path write(String name, String content) {
    try {
      Files.createDirectories(dataDir);
      Path file = dataDir.resolve(name);
      Files.writeString(file, content);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
