package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.checkpoint.Safetensors;

/**
 * A projection weight (out, in) as the checkpoint holds it, handed to {@link Projections} before it
 * is read: a dense projection loads it, an NF4 one quantizes straight from the stored values, so
 * the float weight of a quantized model never exists.
 */
public interface StoredWeight {
  /** The Hugging Face tensor name. */
  String name();

  Shape shape();

  /** The model's compute type. */
  DataType dataType();

  /** The model's manager, which owns whatever the projection keeps. */
  NDManager manager();

  /** The weight in the compute type, owned by the model (and listed in its weights). */
  NDArray load();

  /** The weight read as {@code type} (float16 for a half-precision frozen base), not listed. */
  NDArray load(DataType type);

  /** The stored values as float32, read without creating a tensor; close it after use. */
  Safetensors.Values values();
}
