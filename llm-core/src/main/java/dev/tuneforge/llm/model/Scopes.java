package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.UnaryOperator;

/**
 * Frees a block's intermediates as soon as the block returns, as PyTorch frees a tensor nobody
 * references. DJL keeps every op's result until its manager closes, so without this a forward held
 * all intermediates of all layers at once. Closing a handle only drops the Java reference: what the
 * autograd graph saved for the backward stays alive in libtorch.
 */
final class Scopes {
  private Scopes() {}

  /**
   * {@code body(x)} with results landing in a sub-manager of {@code x}'s (results attach to their
   * first operand's manager); only the returned array survives, in {@code x}'s manager.
   */
  static NDArray run(NDArray x, UnaryOperator<NDArray> body) {
    NDManager parent = x.getManager();
    try (NDManager local = parent.newSubManager()) {
      x.tempAttach(local);
      NDArray out = body.apply(x);
      out.attach(parent);
      return out;
    }
  }
}
