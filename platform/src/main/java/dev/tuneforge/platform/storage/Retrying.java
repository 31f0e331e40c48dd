package dev.tuneforge.platform.storage;

import java.time.Duration;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Storage calls that outlive an outage: a call that fails with a storage error is retried with
 * exponential backoff (0.5 s doubling to 10 s) until {@code deadline} has passed since the first
 * try, then fails with an error naming what was being done, for how long, and the last cause.
 */
public final class Retrying {
  private static final Logger LOG = Logger.getLogger(Retrying.class);

  private Retrying() {}

  /** Runs {@code call}, retrying storage failures until {@code deadline}. */
  public static <T> T storage(String what, Duration deadline, Supplier<T> call) {
    long start = System.nanoTime();
    long pause = 500;
    int attempt = 1;
    while (true) {
      try {
        return call.get();
      } catch (StorageException | java.io.UncheckedIOException e) {
        Duration spent = Duration.ofNanos(System.nanoTime() - start);
        if (spent.plusMillis(pause).compareTo(deadline) > 0) {
          throw new StorageException(
              "storage unavailable: "
                  + what
                  + " failed for "
                  + spent.toSeconds()
                  + " s ("
                  + attempt
                  + " attempts, the deadline is "
                  + deadline
                  + "): "
                  + e.getMessage(),
              e);
        }
        LOG.warnf(
            "%s failed (attempt %d), retrying in %d ms: %s", what, attempt, pause, e.getMessage());
        try {
          Thread.sleep(pause);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while retrying " + what, interrupted);
        }
        pause = Math.min(10_000, pause * 2);
        attempt++;
      }
    }
  }

  /** As {@link #storage(String, Duration, Supplier)} for a call without a result. */
  public static void storage(String what, Duration deadline, Runnable call) {
    storage(
        what,
        deadline,
        () -> {
          call.run();
          return null;
        });
  }
}
