package dev.tuneforge.llm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TorchTest {

  @Test
  void engineLoadsOfflineFromTheClasspath() {
    assertEquals("PyTorch", Torch.engine().getEngineName());
    try (NDManager manager = Torch.engine().newBaseManager()) {
      NDArray x = manager.create(new float[] {1, 2, 3});
      assertEquals(14f, x.mul(x).sum().getFloat());
    }
  }

  @Test
  void missingNativeLibraryIsAClearErrorNotAHang() throws Exception {
    String classpath =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(entry -> !entry.contains("pytorch-native-cpu"))
            .collect(Collectors.joining(File.pathSeparator));
    Path emptyCache = Files.createTempDirectory("djl-cache-");
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classpath,
                Torch.class.getName())
            .redirectErrorStream(true);
    builder.environment().put("DJL_CACHE_DIR", emptyCache.toString());
    builder.environment().remove("PYTORCH_LIBRARY_PATH");
    Process process = builder.start();

    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the engine start must fail fast, not hang");
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, process.exitValue(), output);
    assertTrue(output.contains("libtorch could not be loaded offline"), output);
    assertTrue(output.contains("pytorch-native-cpu"), output);
  }
}
