package dev.tuneforge.llm.adapter.adalora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rank allocation equals the one computed as peft computes it (tools/reference/
 * adalora_allocator.py, golden reference/adalora-allocator.json): budgets, the singular values left
 * after masking, and the rank patterns, step by step through tinit, the cubic fall, the final
 * allocation at total_step - tfinal and the fixed phase after it.
 */
class RankAllocatorTest {
  @Test
  void allocatesAsPeftDoesStepByStep() throws Exception {
    JsonObject golden =
        JsonParser.parseString(
                Files.readString(Path.of("src/test/resources/reference/adalora-allocator.json")))
            .getAsJsonObject();
    JsonObject s = golden.getAsJsonObject("settings");
    AdaLoraSettings settings =
        new AdaLoraSettings(
            s.get("init_r").getAsInt(),
            s.get("target_r").getAsInt(),
            s.get("tinit").getAsInt(),
            s.get("tfinal").getAsInt(),
            s.get("deltaT").getAsInt(),
            s.get("beta1").getAsDouble(),
            s.get("beta2").getAsDouble(),
            0.5,
            s.get("total_step").getAsLong(),
            8,
            0,
            List.of("q_proj"),
            Map.of());
    List<String> modules = new ArrayList<>();
    golden.getAsJsonArray("modules").forEach(m -> modules.add(m.getAsString()));
    RankAllocator allocator = new RankAllocator(settings, modules, 0);
    int patterns = 0;
    for (JsonElement element : golden.getAsJsonArray("steps")) {
      JsonObject step = element.getAsJsonObject();
      long t = step.get("step").getAsLong();
      Map<String, float[]> values = floats(step.getAsJsonObject("values"));
      Map<String, float[]> gradients = floats(step.getAsJsonObject("gradients"));
      Map<String, List<Boolean>> pattern = allocator.step(t, values, gradients);
      assertEquals(step.get("budget").getAsInt(), allocator.budget(t).budget(), "budget " + t);
      Map<String, float[]> after = floats(step.getAsJsonObject("e_after"));
      for (String module : modules) {
        float[] want = after.get(module);
        float[] got = values.get(module + ".lora_E");
        for (int i = 0; i < want.length; i++) {
          assertEquals(want[i], got[i], 1e-6, "step " + t + " " + module + " E[" + i + "]");
        }
      }
      if (step.get("pattern").isJsonNull()) {
        assertNull(pattern, "no allocation at step " + t);
      } else {
        patterns++;
        Map<String, List<Boolean>> want = new LinkedHashMap<>();
        for (var entry : step.getAsJsonObject("pattern").entrySet()) {
          List<Boolean> kept = new ArrayList<>();
          entry.getValue().getAsJsonArray().forEach(k -> kept.add(k.getAsBoolean()));
          want.put(entry.getKey(), kept);
        }
        assertEquals(want, pattern, "pattern at step " + t);
      }
    }
    assertEquals(4, patterns, "allocations at steps 4, 6, 8 and the final one at 9");
  }

  private static Map<String, float[]> floats(JsonObject json) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (var entry : json.entrySet()) {
      JsonArray values = entry.getValue().getAsJsonArray();
      float[] array = new float[values.size()];
      for (int i = 0; i < array.length; i++) {
        array[i] = values.get(i).getAsFloat();
      }
      out.put(entry.getKey(), array);
    }
    return out;
  }
}
