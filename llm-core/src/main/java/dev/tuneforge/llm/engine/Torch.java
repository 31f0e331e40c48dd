package dev.tuneforge.llm.engine;

import ai.djl.engine.Engine;

/**
 * The PyTorch engine, loaded strictly offline. libtorch comes from the {@code pytorch-native-cpu}
 * jar on the classpath (or an extracted copy named by {@code PYTORCH_LIBRARY_PATH}); DJL is told
 * never to download anything, so a missing library is an immediate, named error instead of a hang.
 */
public final class Torch {
  public static final String ENGINE_NAME = "PyTorch";
  private static Engine engine;

  private Torch() {}

  /** The loaded engine; the first call extracts libtorch into the DJL cache (a few seconds). */
  public static synchronized Engine engine() {
    if (engine == null) {
      goOffline();
      if (System.getenv("TUNEFORGE_MMAP_THRESHOLD") != null) {
        NativeMemory.returnFreedTensorsToTheSystem(); // an explicit setting holds for everything
      }
      try {
        engine = Engine.getEngine(ENGINE_NAME);
      } catch (RuntimeException | UnsatisfiedLinkError e) {
        throw new IllegalStateException(
            "libtorch could not be loaded offline ("
                + rootMessage(e)
                + "). TuneForge needs ai.djl.pytorch:pytorch-native-cpu:2.7.1 (classifier"
                + " linux-x86_64) and pytorch-jni:2.7.1-0.36.0 on the classpath, or"
                + " PYTORCH_LIBRARY_PATH naming a directory with libtorch; it never downloads one."
                + " Do not set PYTORCH_VERSION to another version.",
            e);
      }
    }
    return engine;
  }

  /** Keeps the tokenizers library (which starts no engine) off the network too. */
  public static void goOfflineForTokenizers() {
    goOffline();
  }

  /** Sets the switches that keep DJL off the network unless the caller chose otherwise. */
  static void goOffline() {
    if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    // The CUDA probe forks a process that only logs a warning on machines without a driver.
    if (System.getProperty("ai.djl.util.cuda.fork") == null) {
      System.setProperty("ai.djl.util.cuda.fork", "true");
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }

  /**
   * Loads the tokenizers library and libtorch (only the first with argument {@code tokenizers}) and
   * prints the engine's version: {@code java -cp ... dev.tuneforge.llm.engine.Torch}. Container
   * builds run it with {@code DJL_CACHE_DIR} set, so the native libraries are extracted into the
   * image and nothing is unpacked at pod start.
   */
  public static void main(String[] args) {
    try {
      goOffline();
      ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus();
      if (args.length > 0 && args[0].equals("tokenizers")) {
        System.out.println("tokenizers loaded");
        return;
      }
      Engine loaded = engine();
      System.out.println(
          loaded.getEngineName() + " " + loaded.getVersion() + ", tokenizers loaded");
    } catch (IllegalStateException | UnsatisfiedLinkError e) {
      System.err.println(e.getMessage());
      System.exit(2);
    }
  }
}
