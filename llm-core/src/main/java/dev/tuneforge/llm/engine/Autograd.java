package dev.tuneforge.llm.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Thread-local autograd on libtorch. DJL's GradientCollector allows one collector per process
 * (shared/notes/djl-spike.md, G5), so training uses libtorch's per-thread grad mode and backward
 * directly; jobs on different threads then train independently. While recording, a {@link Tape} is
 * open on the thread so frozen projections keep no weight in the graph.
 */
public final class Autograd {
  private Autograd() {}

  /**
   * Runs {@code body} with graph recording on (true) or off (false) on this thread, then restores
   * it. Recording opens a {@link Tape} for the body unless one is open.
   */
  public static <T> T withGrad(boolean enabled, java.util.function.Supplier<T> body) {
    boolean previous = JniUtils.isGradMode();
    boolean opened = enabled && Tape.open();
    JniUtils.setGradMode(enabled);
    try {
      return body.get();
    } finally {
      JniUtils.setGradMode(previous);
      if (opened) {
        Tape.close();
      }
    }
  }

  /** Sets grad mode on this thread (fresh Java threads start with it on). */
  public static void setEnabled(boolean enabled) {
    JniUtils.setGradMode(enabled);
  }

  /** Accumulates d(loss)/d(leaf) into every leaf that requires a gradient. */
  public static void backward(NDArray loss) {
    try (NDArray seed = loss.onesLike()) {
      backward(loss, seed);
    }
  }

  /**
   * Backward from {@code output} seeded with {@code gradient} (d loss / d output), through the
   * segments of the thread's tape when one is recording.
   */
  public static void backward(NDArray output, NDArray gradient) {
    Tape tape = Tape.current();
    if (tape != null) {
      tape.backward(output, gradient);
    } else {
      JniUtils.backward((PtNDArray) output, (PtNDArray) gradient, false, false);
    }
  }

  /**
   * Pushes gradients already seeded at tape leaves (by plain backward calls that ended there, as a
   * chunked loss makes them) down through the rest of the tape.
   */
  public static void propagate() {
    Tape tape = Tape.current();
    if (tape != null) {
      tape.propagate();
    }
  }

  /**
   * Backward that stops at tape leaves: for a part of the graph whose leaves the tape then takes.
   */
  public static void backwardSegment(NDArray output, NDArray gradient) {
    JniUtils.backward((PtNDArray) output, (PtNDArray) gradient, false, false);
  }

  /** Sets a parameter's accumulated gradient to zero. */
  public static void zeroGradient(NDArray parameter) {
    JniUtils.zeroGrad((PtNDArray) parameter);
  }
}
