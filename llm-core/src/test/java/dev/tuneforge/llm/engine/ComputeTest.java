package dev.tuneforge.llm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

/** Devices by configuration: cpu, cuda, cuda:N, auto; a GPU that is not there is named. */
class ComputeTest {
  @Test
  void devicesAreChosenByName() {
    assertEquals(Device.cpu(), new Compute("cpu", "float32").djlDevice());
    assertEquals("cuda", new Compute("GPU", "float32").device(), "gpu is cuda");
    int gpus = Torch.engine().getGpuCount();
    assertEquals(
        gpus > 0 ? Device.gpu(0) : Device.cpu(), new Compute("auto", "float32").djlDevice());
    if (gpus == 0) {
      IllegalStateException missing =
          assertThrows(
              IllegalStateException.class, () -> new Compute("cuda:1", "float32").djlDevice());
      assertTrue(
          missing.getMessage().contains("device cuda:1 was asked for"), missing.getMessage());
    }
    IllegalArgumentException bad =
        assertThrows(IllegalArgumentException.class, () -> new Compute("tpu", "float32"));
    assertTrue(bad.getMessage().contains("cpu, cuda, cuda:N or auto"), bad.getMessage());
  }
}
