package dev.tuneforge.servers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the server artefacts resolved by the {@code servers} module build live: {@code
 * kafka.classpath} (the broker's jars in the local Maven repository) and {@code s3proxy.jar}. Set
 * {@code -Dtuneforge.servers.dir} or {@code TUNEFORGE_SERVERS_DIR}; otherwise the directory next to
 * this class's jar or classes folder ({@code servers/target}) is used.
 */
public final class ServerHome {
  public static final String PROPERTY = "tuneforge.servers.dir";
  public static final String ENV = "TUNEFORGE_SERVERS_DIR";

  private ServerHome() {}

  /** The directory holding {@code kafka.classpath} and {@code s3proxy.jar}. */
  public static Path dir() {
    String configured = System.getProperty(PROPERTY, System.getenv(ENV));
    Path dir = configured != null ? Path.of(configured) : besideThisCode();
    if (!Files.isRegularFile(dir.resolve("kafka.classpath"))
        || !Files.isRegularFile(dir.resolve("s3proxy.jar"))) {
      throw new IllegalStateException(
          "server artefacts not found in "
              + dir.toAbsolutePath()
              + ": expected kafka.classpath and s3proxy.jar. Build them with"
              + " `mvn -pl servers generate-resources` (./tuneforge does this on first use), or set "
              + PROPERTY
              + " / "
              + ENV);
    }
    return dir;
  }

  /** The Kafka broker classpath. */
  public static String kafkaClasspath() {
    try {
      return Files.readString(dir().resolve("kafka.classpath")).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The S3Proxy fat jar. */
  public static Path s3ProxyJar() {
    return dir().resolve("s3proxy.jar");
  }

  /** The {@code java} executable of the running JVM. */
  public static String javaExecutable() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static Path besideThisCode() {
    try {
      Path location =
          Path.of(ServerHome.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return location.getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
