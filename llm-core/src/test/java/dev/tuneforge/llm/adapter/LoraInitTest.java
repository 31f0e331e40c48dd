package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEFT's two plain LoRA initialisations: {@code init_lora_weights=True} draws A Kaiming-uniform,
 * bounded by 1/sqrt(in_features); {@code "gaussian"} draws A from N(0, 1/r). B is zero either way,
 * and the adapter's config says which was used.
 */
class LoraInitTest {
  @TempDir Path dir;

  private static LoraSettings settings(int r, String init) {
    return new LoraSettings(
        r,
        2.0 * r,
        0.0,
        LoraSettings.ALL_LINEAR,
        false,
        "none",
        false,
        List.of(),
        null,
        false,
        init);
  }

  /** mean and standard deviation of every lora_A value; asserts every lora_B is zero. */
  private double[] stats(String init, int r) {
    LoraAdapter adapter = LoraAdapter.create(settings(r, init), 5);
    try (LlamaModel model =
        LlamaModel.load(
            dir.resolve("base"), Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      double sum = 0;
      double squares = 0;
      double max = 0;
      long count = 0;
      for (Map.Entry<String, NDArray> e : adapter.parameters().entrySet()) {
        float[] values = e.getValue().toFloatArray();
        if (e.getKey().endsWith("lora_B.weight")) {
          for (float v : values) {
            assertEquals(0f, v, e.getKey());
          }
          continue;
        }
        for (float v : values) {
          sum += v;
          squares += (double) v * v;
          max = Math.max(max, Math.abs(v));
          count++;
        }
      }
      adapter.save(dir.resolve(init), dir.resolve("base").toString());
      double mean = sum / count;
      return new double[] {mean, Math.sqrt(squares / count - mean * mean), max, count};
    }
  }

  @Test
  void gaussianDrawsAFromANormalWithStandardDeviationOneOverR() throws Exception {
    TinyLlama.write(dir.resolve("base"), 2, TinyLlama.Size.DEFAULT);
    int hidden =
        JsonParser.parseString(Files.readString(dir.resolve("base/config.json")))
            .getAsJsonObject()
            .get("hidden_size")
            .getAsInt();
    double[] gaussian = stats("gaussian", 8);
    // thousands of draws: the sample std is within a few percent of 1/8
    assertTrue(gaussian[3] > 2000, "draws: " + gaussian[3]);
    assertEquals(1.0 / 8, gaussian[1], 0.05 / 8, "std of lora_A");
    assertEquals(0, gaussian[0], 0.01, "mean of lora_A");
    assertTrue(gaussian[2] > 2.5 / 8, "a normal's tail reaches past 2.5 sigma: " + gaussian[2]);
    double[] kaiming = stats("true", 8);
    // U(-b, b) with b = 1/sqrt(in): no value beyond b, std b/sqrt(3) (in is hidden for
    // q/k/v/o/gate/up)
    double widest = 1 / Math.sqrt(hidden);
    assertTrue(kaiming[2] <= widest + 1e-6, "Kaiming-uniform bound: " + kaiming[2]);
    assertEquals("gaussian", config("gaussian").get("init_lora_weights").getAsString());
    assertTrue(config("true").get("init_lora_weights").getAsBoolean());
  }

  @Test
  void otherInitialisationsAreRefusedByName() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> settings(8, "pissa"));
    assertTrue(
        e.getMessage().contains("init_lora_weights \"pissa\" is not supported"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> settings(8, "false"));
  }

  private com.google.gson.JsonObject config(String init) throws Exception {
    return JsonParser.parseString(
            Files.readString(dir.resolve(init).resolve("adapter_config.json")))
        .getAsJsonObject();
  }
}
