package dev.tuneforge.servers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A server running as a child process: output goes to a log file, readiness is its port opening,
 * and stop sends SIGTERM (a controlled shutdown) before a kill after a grace period.
 */
public final class ServerProcess {
  private static final Duration STOP_GRACE = Duration.ofSeconds(20);

  private final String name;
  private final ProcessHandle handle;
  private final Path logFile;

  private ServerProcess(String name, ProcessHandle handle, Path logFile) {
    this.name = name;
    this.handle = handle;
    this.logFile = logFile;
  }

  /**
   * Starts {@code command}, appending its output to {@code logFile}, and waits for {@code port}.
   */
  public static ServerProcess start(
      String name, List<String> command, Path logFile, int port, Duration timeout) {
    return start(name, command, Map.of(), logFile, port, timeout);
  }

  /** As {@link #start(String, List, Path, int, Duration)} with extra environment variables. */
  public static ServerProcess start(
      String name,
      List<String> command,
      Map<String, String> environment,
      Path logFile,
      int port,
      Duration timeout) {
    if (Ports.isOpen(port)) {
      throw new IllegalStateException(
          name
              + " cannot start: port "
              + port
              + " is already in use; stop what uses it or pick another port");
    }
    try {
      Files.createDirectories(logFile.getParent());
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
      builder.environment().putAll(environment);
      Process process = builder.start();
      ServerProcess server = new ServerProcess(name, process.toHandle(), logFile);
      try {
        Ports.awaitOpen(name, port, timeout, process::isAlive);
      } catch (RuntimeException e) {
        server.stop();
        throw new IllegalStateException(e.getMessage() + "; see " + logFile, e);
      }
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  /** Attaches to a process started earlier, e.g. by another {@code ./tuneforge} call. */
  public static ServerProcess attach(String name, long pid, Path logFile) {
    ProcessHandle handle =
        ProcessHandle.of(pid)
            .orElseThrow(
                () -> new IllegalStateException(name + " (pid " + pid + ") is not running"));
    return new ServerProcess(name, handle, logFile);
  }

  public String name() {
    return name;
  }

  public long pid() {
    return handle.pid();
  }

  public Path logFile() {
    return logFile;
  }

  public boolean isAlive() {
    return handle.isAlive();
  }

  /** SIGTERM, wait up to the grace period, then SIGKILL. */
  public void stop() {
    if (!handle.isAlive()) {
      return;
    }
    handle.destroy();
    try {
      handle.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      handle.destroyForcibly();
      handle.onExit().join();
    }
  }
}
