package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/**
 * Keys and values of every layer for the tokens seen so far, before the grouped heads are repeated:
 * (batch, numKvHeads, length, headDim) per layer. The cache owns its arrays through its own
 * manager; close it when a generation ends.
 */
public final class KvCache implements AutoCloseable {
  private final NDManager manager;
  private final NDArray[] keys;
  private final NDArray[] values;
  private long virtual;

  public KvCache(NDManager parent, int numLayers) {
    this.manager = parent.newSubManager();
    this.keys = new NDArray[numLayers];
    this.values = new NDArray[numLayers];
  }

  /** Tokens cached so far (0 before the first forward). */
  public long length() {
    return keys[0] == null ? 0 : keys[0].getShape().get(2);
  }

  /** How many of the cached positions are virtual tokens (prompt tuning), placed first. */
  public long virtualLength() {
    return virtual;
  }

  void markVirtual(long count) {
    this.virtual = count;
  }

  /** Appends this step's keys and values of {@code layer}; returns the full (k, v). */
  NDArray[] append(int layer, NDArray key, NDArray value) {
    keys[layer] = extend(keys[layer], key);
    values[layer] = extend(values[layer], value);
    return new NDArray[] {keys[layer], values[layer]};
  }

  /** Keeps only the rows of {@code batchIndices} (batch entries that are still generating). */
  public void select(NDArray batchIndices) {
    for (int layer = 0; layer < keys.length; layer++) {
      keys[layer] = replace(keys[layer], keys[layer].get(batchIndices));
      values[layer] = replace(values[layer], values[layer].get(batchIndices));
    }
  }

  private NDArray extend(NDArray cached, NDArray step) {
    NDArray extended =
        cached == null ? step.duplicate() : NDArrays.concat(new NDList(cached, step), 2);
    return replace(cached, extended);
  }

  private NDArray replace(NDArray old, NDArray next) {
    next.attach(manager);
    if (old != null && old != next) {
      old.close();
    }
    return next;
  }

  @Override
  public void close() {
    manager.close();
  }
}
