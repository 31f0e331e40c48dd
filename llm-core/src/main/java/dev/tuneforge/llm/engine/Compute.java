package dev.tuneforge.llm.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/**
 * Where and in which float type a model computes: CPU float32 by default; GPU and float16 by
 * configuration. bfloat16 is refused: DJL 0.36's PyTorch JNI has no mapping for it and aborts the
 * process instead of raising an error (shared/notes/djl-spike.md, G2).
 *
 * @param device "cpu" or "gpu"
 * @param dtype "float32" or "float16"
 */
public record Compute(String device, String dtype) {
  public static final Compute CPU_FLOAT32 = new Compute("cpu", "float32");

  public Compute {
    device = device.toLowerCase(Locale.ROOT);
    dtype = dtype.toLowerCase(Locale.ROOT);
    if (!device.equals("cpu") && !device.equals("gpu")) {
      throw new IllegalArgumentException("device must be cpu or gpu but was \"" + device + "\"");
    }
    if (dtype.equals("bfloat16") || dtype.equals("bf16")) {
      throw new IllegalArgumentException(
          "dtype bfloat16 is not supported: DJL 0.36's PyTorch bindings abort the JVM on bfloat16"
              + " tensors; use float32, or float16 on a GPU. bfloat16 checkpoints still load"
              + " (widened to float32).");
    }
    if (!dtype.equals("float32") && !dtype.equals("float16")) {
      throw new IllegalArgumentException(
          "dtype must be float32 or float16 but was \"" + dtype + "\"");
    }
  }

  /** The DJL float type. */
  public DataType dataType() {
    return dtype.equals("float16") ? DataType.FLOAT16 : DataType.FLOAT32;
  }

  /** A manager on this device; fails with the reason when no GPU is visible. */
  public NDManager newManager() {
    if (device.equals("cpu")) {
      return Torch.engine().newBaseManager(Device.cpu());
    }
    int gpus = Torch.engine().getGpuCount();
    if (gpus == 0) {
      throw new IllegalStateException(
          "device gpu was asked for but libtorch sees no CUDA device: this build carries"
              + " pytorch-native-cpu. On GPU nodes, use an image with the CUDA flavour of libtorch"
              + " (PYTORCH_LIBRARY_PATH) and a visible NVIDIA driver.");
    }
    return Torch.engine().newBaseManager(Device.gpu());
  }
}
