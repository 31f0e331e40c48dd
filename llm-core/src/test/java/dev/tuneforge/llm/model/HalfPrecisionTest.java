package dev.tuneforge.llm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.checkpoint.HfCheckpoint;
import dev.tuneforge.llm.checkpoint.RandomCheckpoint;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.HalfPrecision;
import dev.tuneforge.llm.engine.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Half precision against float32 on CPU: a BF16 checkpoint read widened is exactly its float32
 * copy; kept as a float16 frozen base (what bfloat16 storage becomes under DJL 0.36) its
 * log-probabilities stay within a stated tolerance of float32; and every bfloat16 request is
 * refused with the reason, never a JVM abort.
 */
class HalfPrecisionTest {
  @TempDir static Path dir;
  static Path bf16;
  static Path f32;
  static final long[] IDS = {1, 17, 99, 4, 250, 31, 8, 77, 120, 3, 64, 12};

  @BeforeAll
  static void writeCheckpoints() throws Exception {
    bf16 = dir.resolve("bf16");
    LlamaConfig config =
        new LlamaConfig(
            "qwen2",
            256,
            128,
            256,
            2,
            4,
            2,
            32,
            1e-6,
            1e6,
            Optional.empty(),
            512,
            true,
            false,
            false,
            true,
            1,
            List.of(2),
            0,
            false,
            0,
            java.util.Optional.empty());
    RandomCheckpoint.write(bf16, config, 11);
    f32 = dir.resolve("f32");
    Files.createDirectories(f32);
    Files.writeString(
        f32.resolve("config.json"),
        Files.readString(bf16.resolve("config.json")).replace("bfloat16", "float32"));
    try (NDManager manager = Torch.engine().newBaseManager()) {
      Map<String, NDArray> tensors = HfCheckpoint.load(bf16, manager, DataType.FLOAT32);
      HfCheckpoint.save(f32, tensors, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES);
    }
  }

  static float[] logProbs(Path model, Projections projections) {
    try (LlamaModel loaded = LlamaModel.load(model, Compute.CPU_FLOAT32, projections);
        NDManager scope = loaded.manager().newSubManager()) {
      return Autograd.withGrad(
          false,
          () ->
              loaded
                  .forward(scope.create(IDS, new Shape(1, IDS.length)), null, null)
                  .logSoftmax(-1)
                  .toFloatArray());
    }
  }

  @Test
  void aBf16CheckpointReadsExactlyAsItsFloat32Copy() {
    assertArrayEquals(logProbs(f32, Projections.DENSE), logProbs(bf16, Projections.DENSE));
  }

  @Test
  void aFloat16FrozenBaseStaysWithinToleranceOfFloat32() {
    float[] reference = logProbs(bf16, Projections.DENSE);
    float[] half = logProbs(bf16, HalfLinear.projections());
    double worst = 0;
    for (int i = 0; i < reference.length; i++) {
      worst = Math.max(worst, Math.abs(reference[i] - half[i]));
    }
    // float16 activations carry 11 significant bits: log-probs of about -5.5 move by < 2e-3
    assertTrue(worst < 2e-3, "worst log-prob difference " + worst);
    assertTrue(worst > 0, "the float16 path was not taken");
  }

  @Test
  void halfPrecisionCheckpointsAreServedWithAFloat16Base() {
    assertTrue(LlamaModel.inferenceProjections(bf16) != Projections.DENSE);
    assertEquals(Projections.DENSE, LlamaModel.inferenceProjections(f32));
  }

  @Test
  void everyBfloat16RequestIsRefusedWithTheReason() {
    IllegalArgumentException compute =
        assertThrows(IllegalArgumentException.class, () -> new Compute("cpu", "bfloat16"));
    assertTrue(compute.getMessage().contains("GetScalarTypeFromDType"), compute.getMessage());
    IllegalArgumentException qlora =
        assertThrows(
            IllegalArgumentException.class,
            () -> HalfPrecision.computeType("bnb_4bit_compute_dtype", "bfloat16", "cpu"));
    assertTrue(
        qlora.getMessage().startsWith("bnb_4bit_compute_dtype \"bfloat16\" (bfloat16)"),
        qlora.getMessage());
    IllegalArgumentException base =
        assertThrows(
            IllegalArgumentException.class, () -> HalfPrecision.storageType("torch_dtype", "bf16"));
    assertTrue(base.getMessage().contains("use float16"), base.getMessage());
    assertTrue(base.getMessage().contains("TUNEFORGE_JNI_BF16=true"), base.getMessage());
  }

  /**
   * Declared to be running on a JNI that maps bfloat16 (the GPU kit's), the same requests resolve
   * to BFLOAT16; no bfloat16 tensor is made here, since this JVM has DJL's own JNI, which would
   * abort (tools/gpu/rehearse-cpu.sh runs bfloat16 models on the patched one).
   */
  @Test
  void withAJniThatMapsBfloat16TheRequestsResolveToIt() {
    System.setProperty("tuneforge.jni.bf16", "true");
    try {
      assertTrue(HalfPrecision.bfloat16Mapped());
      assertEquals(DataType.BFLOAT16, new Compute("cpu", "bf16").dataType());
      assertEquals(DataType.BFLOAT16, HalfPrecision.storageType("torch_dtype", "bfloat16"));
      assertEquals(
          DataType.BFLOAT16, HalfPrecision.computeType("bnb_4bit_compute_dtype", "bf16", "cuda"));
    } finally {
      System.clearProperty("tuneforge.jni.bf16");
    }
    assertFalse(HalfPrecision.bfloat16Mapped());
  }

  @Test
  void aWeightBeyondFloat16sRangeFailsTheHalfLoadByName() throws Exception {
    Path big = dir.resolve("big");
    Files.createDirectories(big);
    Files.copy(bf16.resolve("config.json"), big.resolve("config.json"));
    try (NDManager manager = Torch.engine().newBaseManager()) {
      Map<String, NDArray> tensors = HfCheckpoint.load(bf16, manager, DataType.FLOAT32);
      String name = WeightNames.weight(1, WeightNames.UP_PROJ);
      tensors.get(name).set(new ai.djl.ndarray.index.NDIndex("0, 0"), 1e5f);
      HfCheckpoint.save(big, tensors, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES);
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LlamaModel.load(big, Compute.CPU_FLOAT32, HalfLinear.projections()).close());
    assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight"), e.getMessage());
  }
}
