package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.checkpoint.HfCheckpoint;
import java.util.Map;

/**
 * Where {@link LlamaModel} reads its tensors from, one at a time when a block asks: a checkpoint on
 * disk (the float model never exists whole) or tensors already in memory.
 */
interface WeightSource {
  java.util.Set<String> names();

  boolean has(String name);

  long[] shape(String name);

  DataType floatType();

  NDArray load(String name, NDManager manager, DataType type);

  dev.tuneforge.llm.checkpoint.Safetensors.Values values(String name);

  /** Tensors read one at a time from a model directory (the float model never exists whole). */
  record Checkpoint(HfCheckpoint.Reader reader, DataType floatType) implements WeightSource {
    public java.util.Set<String> names() {
      return reader.names();
    }

    public boolean has(String name) {
      return reader.has(name);
    }

    public long[] shape(String name) {
      return reader.shape(name);
    }

    public NDArray load(String name, NDManager manager, DataType type) {
      return reader.read(name, manager, type);
    }

    public dev.tuneforge.llm.checkpoint.Safetensors.Values values(String name) {
      return reader.values(name);
    }
  }

  /** Tensors already in memory (owned by the model's manager). */
  record InMemory(Map<String, NDArray> tensors) implements WeightSource {
    public java.util.Set<String> names() {
      return tensors.keySet();
    }

    public boolean has(String name) {
      return tensors.containsKey(name);
    }

    public long[] shape(String name) {
      return tensors.get(name).getShape().getShape();
    }

    public DataType floatType() {
      return tensors.containsKey(WeightNames.EMBED_TOKENS)
          ? tensors.get(WeightNames.EMBED_TOKENS).getDataType()
          : DataType.FLOAT32;
    }

    public NDArray load(String name, NDManager manager, DataType type) {
      NDArray tensor = tensors.get(name);
      return tensor.getDataType() == type || !tensor.getDataType().isFloating()
          ? tensor
          : tensor.toType(type, false);
    }

    public dev.tuneforge.llm.checkpoint.Safetensors.Values values(String name) {
      NDArray tensor = tensors.get(name);
      java.nio.ByteBuffer bytes =
          (tensor.getDataType() == DataType.FLOAT32
                  ? tensor
                  : tensor.toType(DataType.FLOAT32, false))
              .toByteBuffer();
      java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(bytes.remaining());
      direct.put(bytes.order(java.nio.ByteOrder.LITTLE_ENDIAN)).flip();
      return dev.tuneforge.llm.checkpoint.Safetensors.Values.ofFloat32(direct);
    }
  }

  /**
   * A projection weight of {@code source}, read when the projection asks; {@link #load()} keeps it
   * in the model's {@code owned} tensors (so it is saved and trained like any other).
   */
  record Stored(
      WeightSource source,
      String name,
      ai.djl.ndarray.types.Shape shape,
      DataType dataType,
      NDManager manager,
      Map<String, NDArray> owned)
      implements StoredWeight {
    @Override
    public NDArray load() {
      return owned.computeIfAbsent(name, n -> source.load(n, manager, dataType));
    }

    @Override
    public NDArray load(DataType type) {
      return source.load(name, manager, type);
    }

    @Override
    public dev.tuneforge.llm.checkpoint.Safetensors.Values values() {
      return source.values(name);
    }
  }
}
