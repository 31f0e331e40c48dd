package dev.tuneforge.testing;

import dev.tuneforge.servers.KafkaServer;
import dev.tuneforge.servers.S3Server;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A real Kafka broker (KRaft) and a real S3 server (S3Proxy), each in its own process on free
 * loopback ports, shared by every {@code @QuarkusTest} of a test JVM. Declare it once with
 * {@code @QuarkusTestResource(RealStackResource.class)} so Quarkus and the servers start once.
 */
public class RealStackResource implements QuarkusTestResourceLifecycleManager {
  private static KafkaServer kafka;
  private static S3Server s3;

  @Override
  public Map<String, String> start() {
    startServers();
    return Map.of(
        "kafka.bootstrap.servers",
        kafka.bootstrapServers(),
        "tuneforge.storage.endpoint",
        s3.endpoint(),
        "tuneforge.storage.access-key",
        S3Server.ACCESS_KEY,
        "tuneforge.storage.secret-key",
        S3Server.SECRET_KEY);
  }

  @Override
  public void stop() {
    stopServers();
  }

  /** The running broker, e.g. to restart it mid-test. */
  public static synchronized KafkaServer kafka() {
    startServers();
    return kafka;
  }

  /** The running S3 server. */
  public static synchronized S3Server s3() {
    startServers();
    return s3;
  }

  private static synchronized void startServers() {
    if (kafka != null && s3 != null) {
      return;
    }
    try {
      Path root = Files.createTempDirectory("tuneforge-stack-");
      kafka = KafkaServer.start(root.resolve("kafka"), 0, 0);
      s3 = S3Server.start(root.resolve("s3"), 0);
      Runtime.getRuntime().addShutdownHook(new Thread(RealStackResource::stopServers));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static synchronized void stopServers() {
    if (kafka != null) {
      kafka.stop();
      kafka = null;
    }
    if (s3 != null) {
      s3.stop();
      s3 = null;
    }
  }
}
