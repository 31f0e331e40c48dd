package dev.tuneforge.servers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * An S3-compatible server (S3Proxy with its filesystem backend, SigV4 authentication) in its own
 * JVM. Objects live as files under the data directory and survive a restart.
 */
public final class S3Server implements AutoCloseable {
  /** Credentials of the local server; real deployments pass their own through the environment. */
  public static final String ACCESS_KEY = "tuneforge";

  public static final String SECRET_KEY = "tuneforge-local-secret";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path dataDir;
  private final int port;
  private ServerProcess process;

  private S3Server(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.port = port;
  }

  /** Starts the server on {@code port} (0 picks a free one) with objects under {@code dataDir}. */
  public static S3Server start(Path dataDir, int port) {
    S3Server server = new S3Server(dataDir.toAbsolutePath(), port == 0 ? Ports.free() : port);
    server.start();
    return server;
  }

  /** Attaches to a server started earlier by pid. */
  public static S3Server attach(Path dataDir, int port, long pid) {
    S3Server server = new S3Server(dataDir, port);
    server.process = ServerProcess.attach("s3", pid, dataDir.resolve("s3proxy.log"));
    return server;
  }

  public synchronized void start() {
    if (process != null && process.isAlive()) {
      return;
    }
    List<String> command =
        List.of(
            ServerHome.javaExecutable(),
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-jar",
            ServerHome.s3ProxyJar().toString(),
            "--properties",
            writeConfig().toString());
    process =
        ServerProcess.start("s3", command, dataDir.resolve("s3proxy.log"), port, START_TIMEOUT);
  }

  public synchronized void stop() {
    if (process != null) {
      process.stop();
    }
  }

  public String endpoint() {
    return "http://" + Ports.LOOPBACK + ":" + port;
  }

  public int port() {
    return port;
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

  private Path writeConfig() {
    try {
      Path blobs = Files.createDirectories(dataDir.resolve("blobs"));
      String config =
          String.join(
              "\n",
              "s3proxy.endpoint=" + endpoint(),
              "s3proxy.authorization=aws-v2-or-v4",
              "s3proxy.identity=" + ACCESS_KEY,
              "s3proxy.credential=" + SECRET_KEY,
              "jclouds.provider=filesystem",
              "jclouds.filesystem.basedir=" + blobs,
              "");
      Path file = dataDir.resolve("s3proxy.conf");
      Files.writeString(file, config);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
