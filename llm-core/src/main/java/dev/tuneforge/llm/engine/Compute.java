package dev.tuneforge.llm.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/**
 * Where and in which float type a model computes: CPU float32 by default; GPU and float16 by
 * configuration. bfloat16 is refused unless the JNI DJL loaded maps it ({@link
 * HalfPrecision#bfloat16Mapped}): DJL 0.36's own has no mapping and aborts the process instead of
 * raising an error (shared/notes/djl-spike.md, G2).
 *
 * @param device "cpu", "cuda" or "cuda:N" (GPU N; "gpu" is "cuda"), or "auto" (the first GPU if
 *     libtorch sees one, else the CPU)
 * @param dtype "float32", "float16", or "bfloat16" with a JNI that maps it
 */
public record Compute(String device, String dtype) {
  public static final Compute CPU_FLOAT32 = new Compute("cpu", "float32");

  public Compute {
    device = device.toLowerCase(Locale.ROOT);
    dtype = dtype.toLowerCase(Locale.ROOT);
    if (device.equals("gpu")) {
      device = "cuda";
    }
    if (!device.matches("cpu|auto|cuda(:\\d+)?")) {
      throw new IllegalArgumentException(
          "device must be cpu, cuda, cuda:N or auto but was \"" + device + "\"");
    }
    if (dtype.equals("bfloat16") || dtype.equals("bf16")) {
      if (!HalfPrecision.bfloat16Mapped()) {
        throw HalfPrecision.bfloat16Refused("dtype", dtype);
      }
      dtype = "bfloat16";
    }
    if (!dtype.equals("float32") && !dtype.equals("float16") && !dtype.equals("bfloat16")) {
      throw new IllegalArgumentException(
          "dtype must be float32 or float16 but was \"" + dtype + "\"");
    }
  }

  /** The DJL float type. */
  public DataType dataType() {
    return switch (dtype) {
      case "float16" -> DataType.FLOAT16;
      case "bfloat16" -> DataType.BFLOAT16;
      default -> DataType.FLOAT32;
    };
  }

  /** The DJL device: a GPU asked for must be visible, else this fails with the reason. */
  public Device djlDevice() {
    if (device.equals("cpu")) {
      return Device.cpu();
    }
    int gpus = Torch.engine().getGpuCount();
    if (device.equals("auto")) {
      return gpus > 0 ? Device.gpu(0) : Device.cpu();
    }
    int index = device.contains(":") ? Integer.parseInt(device.substring(5)) : 0;
    if (index >= gpus) {
      throw new IllegalStateException(
          "device "
              + device
              + " was asked for but libtorch sees "
              + gpus
              + " CUDA device(s): this build carries pytorch-native-cpu. On GPU nodes, use an"
              + " image with the CUDA flavour of libtorch (PYTORCH_LIBRARY_PATH) and a visible"
              + " NVIDIA driver, or set device auto to fall back to the CPU.");
    }
    return Device.gpu(index);
  }

  /** A manager on this device; fails with the reason when a GPU asked for is not visible. */
  public NDManager newManager() {
    return Torch.engine().newBaseManager(djlDevice());
  }
}
