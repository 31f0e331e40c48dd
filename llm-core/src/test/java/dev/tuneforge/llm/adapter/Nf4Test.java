package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.engine.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class Nf4Test {

  /** Vectors from ../shared/notes/formats-and-metrics.md (D4), derived from bitsandbytes. */
  @Test
  void documentedBitsandbytesVectorsQuantizeExactly() {
    Nf4.Quantized first = Nf4.quantize(new float[] {1, -1, 0, 0.5f, -0.5f, 0.25f, -0.1f, 0.8f}, 64);
    assertArrayEquals(new byte[] {(byte) 0xf0, 0x7c, 0x2a, 0x6e}, first.packed());
    assertArrayEquals(new float[] {1.0f}, first.absmax());
    Nf4.Quantized second = Nf4.quantize(new float[] {2, -3, 0.7f, 1.2f, -0.05f, 0, 3, -1.5f}, 64);
    assertArrayEquals(new byte[] {(byte) 0xe0, (byte) 0xac, 0x77, (byte) 0xf2}, second.packed());
    assertArrayEquals(new float[] {3.0f}, second.absmax());
  }

  /** Random and tie-breaking vectors from tools/reference/nf4_reference.py match byte for byte. */
  @Test
  void referenceVectorsQuantizeExactly() throws Exception {
    JsonArray cases =
        JsonParser.parseString(Files.readString(Path.of("src/test/resources/reference/nf4.json")))
            .getAsJsonArray();
    for (JsonElement element : cases) {
      JsonObject c = element.getAsJsonObject();
      float[] values = floats(c.getAsJsonArray("values"));
      Nf4.Quantized quantized = Nf4.quantize(values, c.get("blocksize").getAsInt());
      JsonArray packed = c.getAsJsonArray("packed");
      for (int i = 0; i < packed.size(); i++) {
        assertEquals(
            (byte) packed.get(i).getAsInt(), quantized.packed()[i], c.get("name") + " byte " + i);
      }
      assertArrayEquals(
          floats(c.getAsJsonArray("absmax")), quantized.absmax(), 0f, c.get("name").getAsString());
    }
  }

  @Test
  void onTheFlyDequantizationEqualsTheJavaDecodeAndStaysClose() {
    float[] weights = new float[64 * 48];
    java.util.Random random = new java.util.Random(3);
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (random.nextGaussian() * 0.02);
    }
    try (NDManager manager = Torch.engine().newBaseManager()) {
      NDArray weight = manager.create(weights, new Shape(64, 48));
      Nf4Linear linear = Nf4Linear.quantize(weight, null, 64, false, manager);
      float[] onTheFly = linear.weight(manager).toFloatArray();
      assertArrayEquals(Nf4.dequantize(Nf4.quantize(weights, 64)), onTheFly, 0f);
      double error = 0;
      double norm = 0;
      for (int i = 0; i < weights.length; i++) {
        error += (weights[i] - onTheFly[i]) * (weights[i] - onTheFly[i]);
        norm += weights[i] * weights[i];
      }
      double relativeRmse = Math.sqrt(error / norm);
      assertTrue(relativeRmse < 0.12, "relative RMSE " + relativeRmse);
      // 4 bits per weight + one float32 per 64 weights = 4.5 bits per weight
      assertEquals(4.5, linear.storageBytes() * 8.0 / weights.length, 1e-9);
    }
  }

  @Test
  void doubleQuantizationKeepsScalesCloseAndCutsStorageBelow4Point2Bits() {
    float[] weights = new float[64 * 1024];
    java.util.Random random = new java.util.Random(5);
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (random.nextGaussian() * 0.02);
    }
    float[] scales = Nf4.quantize(weights, 64).absmax();
    float[] back = DoubleQuant.dequantize(DoubleQuant.quantize(scales));
    for (int i = 0; i < scales.length; i++) {
      assertEquals(scales[i], back[i], 0.02 * scales[i], "scale " + i);
    }
    assertEquals(256, DoubleQuant.DYNAMIC_CODE.length);
    assertEquals(1.0f, DoubleQuant.DYNAMIC_CODE[255]);
    try (NDManager manager = Torch.engine().newBaseManager()) {
      NDArray weight = manager.create(weights, new Shape(64, 1024));
      Nf4Linear single = Nf4Linear.quantize(weight, null, 64, false, manager);
      Nf4Linear dq = Nf4Linear.quantize(weight, null, 64, true, manager);
      double bits = dq.storageBytes() * 8.0 / weights.length;
      System.out.printf(
          "NF4 %.3f bits/weight, with double quantization %.3f%n",
          single.storageBytes() * 8.0 / weights.length, bits);
      assertTrue(bits <= 4.2, "bits per weight " + bits);
      float[] plain = single.weight(manager).toFloatArray();
      float[] nested = dq.weight(manager).toFloatArray();
      for (int i = 0; i < plain.length; i++) {
        assertEquals(plain[i], nested[i], 0.02 * Math.abs(plain[i]) + 1e-7, "weight " + i);
      }
    }
  }

  private static float[] floats(JsonArray array) {
    float[] values = new float[array.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = array.get(i).getAsFloat();
    }
    return values;
  }
}
