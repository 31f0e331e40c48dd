package dev.tuneforge.llm.rl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * PPO's critic: a linear head on the policy's final hidden states estimating the return from each
 * position, named as TRL's {@code AutoModelForCausalLMWithValueHead} saves it ({@code
 * v_head.summary.weight}, {@code v_head.summary.bias}).
 */
public final class ValueHead {
  public static final String WEIGHT = "v_head.summary.weight";
  public static final String BIAS = "v_head.summary.bias";

  private final NDArray weight;
  private final NDArray bias;

  private ValueHead(NDArray weight, NDArray bias) {
    this.weight = weight;
    this.bias = bias;
  }

  /** A fresh head: weight ~ N(0, 0.02²) from {@code seed}, bias 0, owned by {@code manager}. */
  public static ValueHead create(NDManager manager, int hiddenSize, DataType type, long seed) {
    Random random = new Random(seed);
    float[] values = new float[hiddenSize];
    for (int i = 0; i < hiddenSize; i++) {
      values[i] = (float) (random.nextGaussian() * 0.02);
    }
    NDArray weight = manager.create(values, new Shape(1, hiddenSize)).toType(type, false);
    NDArray bias = manager.zeros(new Shape(1), type);
    return new ValueHead(weight, bias);
  }

  /** Values (rows, len) float32 from final hidden states (rows, len, hidden). */
  public NDArray values(NDArray hidden) {
    NDArray values =
        hidden.getNDArrayInternal().linear(hidden, weight, bias).singletonOrThrow().squeeze(-1);
    return values.getDataType() == DataType.FLOAT32
        ? values
        : values.toType(DataType.FLOAT32, false);
  }

  /** The head's tensors by name, to train and checkpoint. */
  public Map<String, NDArray> parameters() {
    Map<String, NDArray> parameters = new LinkedHashMap<>();
    parameters.put(WEIGHT, weight);
    parameters.put(BIAS, bias);
    return parameters;
  }
}
