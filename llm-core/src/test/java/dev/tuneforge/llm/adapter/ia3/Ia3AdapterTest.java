package dev.tuneforge.llm.adapter.ia3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.Adapter;
import dev.tuneforge.llm.adapter.PeftAdapters;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IA3 against the independent reference (tools/reference/llama_reference.py writes a PEFT IA3
 * adapter with random vectors and the log-probs of the model with them folded in), and the adapter
 * invariants: initialised = base, disabled = base, merged = unmerged, after a step only the vectors
 * changed, and a save/load round trip in PEFT's layout.
 */
class Ia3AdapterTest {
  static final Path REFERENCE = Path.of("src/test/resources/reference");
  static final double TOLERANCE = 1e-4;
  @TempDir static Path dir;
  static final long[] IDS = {268, 72, 101, 108, 108, 111, 262, 32, 119, 267};

  @BeforeAll
  static void writeBase() {
    TinyLlama.write(dir, 4, TinyLlama.Size.DEFAULT);
  }

  static Ia3Settings defaults() {
    return Ia3Settings.defaults("llama");
  }

  static float[] logits(LlamaModel model) {
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray ids = scope.create(IDS, new Shape(1, IDS.length));
      return model.forward(ids, null, null).toFloatArray();
    }
  }

  static LlamaModel withAdapter(Adapter adapter) {
    return LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
  }

  static void randomize(Ia3Adapter adapter) {
    adapter
        .parameters()
        .forEach(
            (name, tensor) -> {
              tensor.getManager().getEngine().setRandomSeed(name.hashCode());
              NDArray noise =
                  tensor
                      .getManager()
                      .randomNormal(0, 0.3f, tensor.getShape(), tensor.getDataType());
              dev.tuneforge.llm.engine.Autograd.withGrad(false, () -> tensor.addi(noise));
            });
  }

  @Test
  void theReferencesIa3AdapterGivesItsLogProbs() throws Exception {
    Path adapterDir = REFERENCE.resolve("gqa-ia3-adapter");
    JsonObject expected =
        JsonParser.parseString(Files.readString(adapterDir.resolve("expected.json")))
            .getAsJsonObject();
    try (LlamaModel model =
        PeftAdapters.loadOnto(REFERENCE.resolve("gqa"), adapterDir, Compute.CPU_FLOAT32)) {
      double worst = dev.tuneforge.llm.adapter.PeftInteropTest.largestDifference(model, expected);
      assertTrue(worst <= TOLERANCE, "largest log-prob difference " + worst);
    }
  }

  @Test
  void anAdapterRoundTripsThroughItsPeftDirectory(@TempDir Path out) throws Exception {
    Ia3Adapter adapter = Ia3Adapter.create(defaults());
    float[] trained;
    try (LlamaModel model = withAdapter(adapter)) {
      assertEquals(6, adapter.parameters().size(), "two layers x k, v, down");
      randomize(adapter);
      trained = logits(model);
      adapter.save(out, "tiny");
    }
    JsonObject config =
        JsonParser.parseString(Files.readString(out.resolve(PeftAdapters.CONFIG_FILE)))
            .getAsJsonObject();
    assertEquals("IA3", config.get("peft_type").getAsString());
    assertEquals("[\"down_proj\"]", config.get("feedforward_modules").toString());
    var header =
        dev.tuneforge.llm.checkpoint.Safetensors.readHeader(out.resolve(PeftAdapters.WEIGHTS_FILE));
    assertTrue(
        header.tensors().containsKey("base_model.model.model.layers.1.mlp.down_proj.ia3_l"),
        header.tensors().keySet().toString());
    try (LlamaModel loaded = PeftAdapters.loadOnto(dir, out, Compute.CPU_FLOAT32)) {
      assertArrayEquals(trained, logits(loaded), 0f);
    }
  }

  @Test
  void unsupportedPeftTypesAndOptionsAreRefusedByName(@TempDir Path out) throws Exception {
    Files.writeString(out.resolve(PeftAdapters.CONFIG_FILE), "{\"peft_type\": \"LOHA\"}");
    Files.write(out.resolve(PeftAdapters.WEIGHTS_FILE), new byte[0]);
    try (NDManager staging = Torch.engine().newBaseManager()) {
      IllegalArgumentException refused =
          assertThrows(IllegalArgumentException.class, () -> PeftAdapters.load(out, staging));
      assertTrue(refused.getMessage().contains("peft_type \"LOHA\" is not supported"));
    }
    JsonObject config =
        JsonParser.parseString(
                "{\"peft_type\": \"IA3\", \"target_modules\": [\"k_proj\"],"
                    + " \"feedforward_modules\": [], \"fan_in_fan_out\": true}")
            .getAsJsonObject();
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class, () -> Ia3Adapter.settings(config, out.resolve("c")));
    assertTrue(refused.getMessage().contains("fan_in_fan_out"), refused.getMessage());
    IllegalArgumentException subset =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Ia3Settings(List.of("k_proj"), null, List.of("down_proj"), null));
    assertTrue(subset.getMessage().contains("subset of target_modules"), subset.getMessage());
  }
}
