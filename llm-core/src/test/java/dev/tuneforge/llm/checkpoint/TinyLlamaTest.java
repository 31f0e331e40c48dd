package dev.tuneforge.llm.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.WeightNames;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TinyLlamaTest {
  @TempDir Path dir;

  @Test
  void sameSeedWritesTheSameModelAndAnotherSeedDoesNot() throws Exception {
    TinyLlama.write(dir.resolve("a"), 7, TinyLlama.Size.DEFAULT);
    TinyLlama.write(dir.resolve("b"), 7, TinyLlama.Size.DEFAULT);
    TinyLlama.write(dir.resolve("c"), 8, TinyLlama.Size.DEFAULT);
    byte[] a = Files.readAllBytes(dir.resolve("a/model.safetensors"));
    assertArrayEquals(a, Files.readAllBytes(dir.resolve("b/model.safetensors")));
    assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c/model.safetensors"))));
  }

  @Test
  void savedModelLoadsBackWithIdenticalWeightsIncludingShards() throws Exception {
    TinyLlama.write(dir.resolve("tiny"), 1, TinyLlama.Size.DEFAULT);
    try (LlamaModel model = LlamaModel.load(dir.resolve("tiny"), DataType.FLOAT32)) {
      HfCheckpoint.save(dir.resolve("sharded"), model.weights(), 20_000);
      assertTrue(Files.exists(dir.resolve("sharded/" + HfCheckpoint.INDEX_FILE)));
      try (var files = Files.list(dir.resolve("sharded"))) {
        long shards =
            files
                .filter(
                    f -> f.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors"))
                .count();
        assertTrue(shards > 1, "shards written: " + shards);
      }
      var reloaded = HfCheckpoint.load(dir.resolve("sharded"), model.manager(), DataType.FLOAT32);
      assertEquals(model.weights().keySet(), reloaded.keySet());
      for (var entry : model.weights().entrySet()) {
        NDArray back = reloaded.get(entry.getKey());
        assertArrayEquals(entry.getValue().toFloatArray(), back.toFloatArray(), 0f, entry.getKey());
      }
    }
  }

  @Test
  void pickledWeightsAreRefusedWithTheReasonAndTheFix() throws Exception {
    Files.createDirectories(dir.resolve("pickle"));
    Files.writeString(dir.resolve("pickle/config.json"), "{}");
    Files.write(dir.resolve("pickle/pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> HfCheckpoint.load(dir.resolve("pickle"), null, DataType.FLOAT32));
    assertTrue(e.getMessage().contains("[pytorch_model.bin]"), e.getMessage());
    assertTrue(e.getMessage().contains("never unpickles"), e.getMessage());
    assertTrue(e.getMessage().contains("safe_serialization=True"), e.getMessage());
  }

  @Test
  void truncatedSafetensorsIsANamedError() throws Exception {
    TinyLlama.write(dir.resolve("tiny"), 1, TinyLlama.Size.DEFAULT);
    Path file = dir.resolve("tiny/model.safetensors");
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Safetensors.readHeader(file));
    assertTrue(
        e.getMessage().contains(WeightNames.EMBED_TOKENS) || e.getMessage().contains("file size"),
        e.getMessage());
  }

  @Test
  void bf16NarrowsWithRoundHalfToEvenAndWidensExactly() {
    assertEquals((short) 0x3F80, Bf16.narrow(1.0f));
    // 1 + 2^-8 is halfway between two bf16 values; ties go to the even mantissa (1.0).
    assertEquals((short) 0x3F80, Bf16.narrow(1.0f + 0x1p-8f));
    assertEquals((short) 0x3F82, Bf16.narrow(1.0f + 3 * 0x1p-8f));
    var bytes =
        java.nio.ByteBuffer.allocate(2)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .putShort((short) 0xC0A0)
            .flip();
    assertEquals(-5.0f, Bf16.widen(bytes).getFloat(0));
  }
}
