package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What prompt and prefix tuning share: adapters that add positions (virtual tokens, prefix keys and
 * values) instead of changing a weight. They hold their trainable tensors by name, have no dropout,
 * do not start as the base, are switched off by leaving their positions out, and cannot be merged.
 */
public abstract class VirtualPositionsAdapter implements Adapter {
  /** The trainable tensors by name, filled while the model is built. */
  protected final Map<String, NDArray> parameters = new LinkedHashMap<>();

  private boolean enabled = true;

  /** Whether the positions are added now (off: the model is its base). */
  protected boolean enabled() {
    return enabled;
  }

  /** Why merging is refused: what the method adds instead of a weight change. */
  protected abstract String whatItAdds();

  @Override
  public Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(parameters);
  }

  @Override
  public void setTraining(boolean training) {
    // No dropout.
  }

  @Override
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  @Override
  public boolean startsAsBase() {
    return false;
  }

  @Override
  public boolean mergeable() {
    return false;
  }

  @Override
  public void merge() {
    throw new IllegalStateException(
        "a "
            + peftType()
            + " adapter cannot be merged into the base weights: its "
            + whatItAdds()
            + " are extra positions, not a change of any weight; serve it as an adapter");
  }
}
