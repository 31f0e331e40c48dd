package dev.tuneforge.servers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/** Loopback ports: pick a free one, test one, wait for one to open. */
public final class Ports {
  public static final String LOOPBACK = "127.0.0.1";

  private Ports() {}

  /** A port that was free a moment ago; a child process may still lose a race for it. */
  public static int free() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  /** Whether something accepts connections on the loopback port. */
  public static boolean isOpen(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(LOOPBACK, port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Waits until {@code port} accepts connections. Fails early when {@code alive} turns false (the
   * process died) and after {@code timeout}.
   */
  public static void awaitOpen(String what, int port, Duration timeout, BooleanSupplier alive) {
    Instant deadline = Instant.now().plus(timeout);
    while (!isOpen(port)) {
      if (!alive.getAsBoolean()) {
        throw new IllegalStateException(what + " exited before opening port " + port);
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(what + " did not open port " + port + " within " + timeout);
      }
      pause(50);
    }
  }

  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
