package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The array arithmetic of virtual tokens, positions before a sequence that hold no token (PEFT
 * prompt tuning): they are always visible, they come first in the input, and their states are
 * dropped from what the model returns, so callers see only their own tokens.
 */
final class VirtualTokens {
  private VirtualTokens() {}

  /** {@code mask} (batch, len) with {@code count} visible columns before it. */
  static NDArray visible(NDArray mask, long count) {
    if (count == 0) {
      return mask;
    }
    NDArray ones = mask.getManager().ones(new Shape(mask.getShape().get(0), count), DataType.INT64);
    return NDArrays.concat(new NDList(ones, mask.toType(DataType.INT64, false)), 1);
  }

  /**
   * {@code prompt} (n, hidden), repeated over the batch, before {@code embedded} (batch, len,
   * hidden); {@code embedded} itself when there is no prompt.
   */
  static NDArray prepend(NDArray prompt, NDArray embedded) {
    if (prompt == null) {
      return embedded;
    }
    long batch = embedded.getShape().get(0);
    if (prompt.getDataType() != embedded.getDataType()) {
      throw new IllegalStateException(
          "virtual tokens are "
              + prompt.getDataType()
              + " but the model computes in "
              + embedded.getDataType());
    }
    // The view belongs to the call's scope, so what is computed from it does too (results attach
    // to their first operand's manager; the prompt's is the model's).
    NDArray rows = prompt.expandDims(0);
    rows.attach(embedded.getManager());
    NDArray repeated = batch == 1 ? rows : rows.repeat(0, batch);
    return NDArrays.concat(new NDList(repeated, embedded), 1);
  }

  /**
   * Layer {@code layer}'s keys and values from prefix tuning's flat (n, 2 * layers * numKvHeads *
   * headDim) ones, each (batch, numKvHeads, n, headDim) in {@code scope}: keys in block 2l, values
   * in block 2l + 1. Each layer slices the flat array itself, so no part of its graph is shared.
   */
  static NDArray[] prefixOf(
      NDArray flat, LlamaConfig config, int layer, long batch, NDManager scope) {
    long n = flat.getShape().get(0);
    long block = (long) config.numKvHeads() * config.headDim();
    NDArray[] kv = new NDArray[2];
    for (int part = 0; part < 2; part++) {
      long from = (2L * layer + part) * block;
      NDArray slice = flat.get(":, {}:{}", from, from + block);
      slice.attach(scope); // what is computed from it belongs to the call, not the model
      NDArray heads =
          slice.reshape(n, config.numKvHeads(), config.headDim()).transpose(1, 0, 2).expandDims(0);
      kv[part] = batch == 1 ? heads : heads.repeat(0, batch);
    }
    return kv;
  }

  /** {@code hidden} (batch, lead + len, ...) without its first {@code lead} positions. */
  static NDArray drop(NDArray hidden, long lead) {
    return lead == 0 ? hidden : hidden.get(":, {}:", lead);
  }
}
