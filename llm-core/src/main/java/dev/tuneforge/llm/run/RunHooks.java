package dev.tuneforge.llm.run;

import dev.tuneforge.llm.recipe.StepListener;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * What the caller sees of a run, and how it stops one.
 *
 * @param listener every logged step
 * @param onCheckpoint each complete checkpoint directory; for an adapter it holds the PEFT adapter
 *     as of that step in {@code adapter/}
 * @param stop answers true to stop before the next step (a cancel, or a time limit)
 * @param log dataset and result lines
 */
public record RunHooks(
    StepListener listener, Consumer<Path> onCheckpoint, BooleanSupplier stop, PrintWriter log) {
  public RunHooks {
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(onCheckpoint, "onCheckpoint");
    Objects.requireNonNull(stop, "stop");
    Objects.requireNonNull(log, "log");
  }

  /** Hooks that log to {@code log} and otherwise do nothing. */
  public static RunHooks quiet(PrintWriter log) {
    return new RunHooks(StepListener.NONE, dir -> {}, () -> false, log);
  }
}
