package dev.tuneforge.llm.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Thread-local autograd on libtorch. DJL's GradientCollector allows one collector per process
 * (shared/notes/djl-spike.md, G5), so training uses libtorch's per-thread grad mode and backward
 * directly; jobs on different threads then train independently.
 */
public final class Autograd {
  private Autograd() {}

  /**
   * Runs {@code body} with graph recording on (true) or off (false) on this thread, then restores
   * it.
   */
  public static <T> T withGrad(boolean enabled, java.util.function.Supplier<T> body) {
    boolean previous = JniUtils.isGradMode();
    JniUtils.setGradMode(enabled);
    try {
      return body.get();
    } finally {
      JniUtils.setGradMode(previous);
    }
  }

  /** Sets grad mode on this thread (fresh Java threads start with it on). */
  public static void setEnabled(boolean enabled) {
    JniUtils.setGradMode(enabled);
  }

  /** Accumulates d(loss)/d(leaf) into every leaf that requires a gradient. */
  public static void backward(NDArray loss) {
    try (NDArray seed = loss.onesLike()) {
      JniUtils.backward((PtNDArray) loss, (PtNDArray) seed, false, false);
    }
  }

  /** Sets a parameter's accumulated gradient to zero. */
  public static void zeroGradient(NDArray parameter) {
    JniUtils.zeroGrad((PtNDArray) parameter);
  }
}
