package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.model.Linear;
import dev.tuneforge.llm.model.LlamaConfig;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.StoredWeight;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Projections that hand every seam to a base (the frozen base's dense, half or NF4 projections); an
 * adapter overrides only the seam it acts at.
 */
public class DelegatingProjections implements Projections {
  private final Projections base;

  public DelegatingProjections(Projections base) {
    this.base = base;
  }

  @Override
  public Linear create(int layer, String module, StoredWeight weight, NDArray bias) {
    return base.create(layer, module, weight, bias);
  }

  @Override
  public Supplier<NDArray> module(String name, NDArray original) {
    return base.module(name, original);
  }

  @Override
  public Supplier<NDArray> virtualTokens(LlamaConfig config, NDArray embedding) {
    return base.virtualTokens(config, embedding);
  }

  @Override
  public Function<NDManager, NDArray> prefix(
      LlamaConfig config, NDManager manager, DataType computeType) {
    return base.prefix(config, manager, computeType);
  }
}
