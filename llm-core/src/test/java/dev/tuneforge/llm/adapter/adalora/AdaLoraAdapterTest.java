package dev.tuneforge.llm.adapter.adalora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.PeftAdapters;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AdaLoRA against the independent reference (tools/reference/llama_reference.py writes a PEFT
 * AdaLoRA adapter whose rank_pattern prunes ranks, with its tensors cut as peft saves them, and the
 * log-probs with the SVD-form updates folded in), and its own layout: a pruned adapter saves only
 * the kept ranks and reads back to the same logits.
 */
class AdaLoraAdapterTest {
  static final Path REFERENCE = Path.of("src/test/resources/reference");
  @TempDir static Path dir;
  static final long[] IDS = {268, 72, 101, 108, 108, 111, 262, 32, 119, 267};

  @BeforeAll
  static void writeBase() {
    TinyLlama.write(dir, 4, TinyLlama.Size.DEFAULT);
  }

  static float[] logits(LlamaModel model) {
    try (NDManager scope = model.manager().newSubManager()) {
      return model.forward(scope.create(IDS, new Shape(1, IDS.length)), null, null).toFloatArray();
    }
  }

  @Test
  void theReferencesPrunedAdaLoraAdapterGivesItsLogProbs() throws Exception {
    Path adapterDir = REFERENCE.resolve("gqa-adalora-adapter");
    JsonObject expected =
        JsonParser.parseString(Files.readString(adapterDir.resolve("expected.json")))
            .getAsJsonObject();
    double worst = 0;
    try (LlamaModel model =
        PeftAdapters.loadOnto(REFERENCE.resolve("gqa"), adapterDir, Compute.CPU_FLOAT32)) {
      var sequences = expected.getAsJsonArray("sequences");
      for (int s = 0; s < sequences.size(); s++) {
        var sequence = sequences.get(s).getAsJsonArray();
        long[] ids = new long[sequence.size()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = sequence.get(i).getAsLong();
        }
        var want = expected.getAsJsonArray("logprobs").get(s).getAsJsonArray();
        try (NDManager scope = model.manager().newSubManager()) {
          float[] ours =
              model
                  .forward(scope.create(ids, new Shape(1, ids.length)), null, null)
                  .logSoftmax(-1)
                  .toFloatArray();
          for (int t = 1; t < ids.length; t++) {
            worst =
                Math.max(
                    worst, Math.abs(ours[(t - 1) * 96 + (int) ids[t]] - want.get(t).getAsDouble()));
          }
        }
      }
    }
    assertTrue(worst <= 1e-4, "largest log-prob difference " + worst);
  }

  /** The orthogonality penalty equals peft's on the reference adapter, and its gradient flows. */
  @Test
  void theOrthogonalityPenaltyIsPeftsAndReachesEveryAAndB() throws Exception {
    Path adapterDir = REFERENCE.resolve("gqa-adalora-adapter");
    double want =
        JsonParser.parseString(Files.readString(adapterDir.resolve("expected.json")))
            .getAsJsonObject()
            .get("orth_penalty")
            .getAsDouble();
    try (NDManager staging = dev.tuneforge.llm.engine.Torch.engine().newBaseManager()) {
      AdaLoraAdapter adapter = (AdaLoraAdapter) PeftAdapters.load(adapterDir, staging);
      try (LlamaModel model =
              LlamaModel.load(
                  REFERENCE.resolve("gqa"),
                  Compute.CPU_FLOAT32,
                  adapter.projections(Projections.DENSE));
          NDManager scope = model.manager().newSubManager()) {
        double penalty = adapter.orthogonalityPenalty(scope, 1f);
        assertEquals(want, penalty, 1e-4 * want, "penalty");
        adapter
            .parameters()
            .forEach(
                (name, p) -> {
                  NDArray g = p.getGradient();
                  g.attach(scope);
                  double size = g.abs().sum().getFloat();
                  assertEquals(name.endsWith("lora_E"), size == 0, name + " gradient " + size);
                });
      }
    }
  }

  @Test
  void aPrunedAdapterSavesOnlyItsKeptRanksAndReadsBack(@TempDir Path out) throws Exception {
    AdaLoraSettings settings =
        new AdaLoraSettings(
            4, 2, 0, 0, 1, 0.85, 0.85, 0.5, 10, 8, 0.0, List.of("q_proj", "v_proj"), Map.of());
    AdaLoraAdapter adapter = AdaLoraAdapter.create(settings, 3);
    float[] tuned;
    try (LlamaModel model =
        LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      assertEquals(12, adapter.parameters().size(), "2 layers x q, v x A, E, B");
      String e0 = "base_model.model.model.layers.0.self_attn.q_proj.lora_E";
      // Singular values away from zero, one rank of layer 0's q_proj pruned (its E held at 0).
      Autograd.withGrad(
          false,
          () -> {
            adapter.parameters().entrySet().stream()
                .filter(p -> p.getKey().endsWith("lora_E"))
                .forEach(p -> p.getValue().addi(1.5f));
            adapter.parameters().get(e0).set(new ai.djl.ndarray.index.NDIndex("1, 0"), 0f);
            return null;
          });
      adapter.setRankPattern(Map.of(e0, List.of(true, false, true, true)));
      tuned = logits(model);
      adapter.save(out, "tiny");
    }
    var header =
        dev.tuneforge.llm.checkpoint.Safetensors.readHeader(out.resolve(PeftAdapters.WEIGHTS_FILE));
    assertEquals(12, header.tensors().size());
    String q0 = "base_model.model.model.layers.0.self_attn.q_proj.";
    assertArrayEquals(new long[] {3, 64}, header.tensors().get(q0 + "lora_A").shape());
    assertArrayEquals(new long[] {3, 1}, header.tensors().get(q0 + "lora_E").shape());
    assertArrayEquals(new long[] {64, 3}, header.tensors().get(q0 + "lora_B").shape());
    assertArrayEquals(
        new long[] {4, 64},
        header.tensors().get("base_model.model.model.layers.1.self_attn.q_proj.lora_A").shape());
    String config = Files.readString(out.resolve(PeftAdapters.CONFIG_FILE));
    assertTrue(config.contains("\"rank_pattern\""), config);
    // peft resolves rank_pattern keys against the base model (resize_modules_by_rank_pattern)
    assertTrue(
        config.contains("\"model.layers.0.self_attn.q_proj.lora_E\""), "peft's key: " + config);
    assertFalse(config.contains("\"base_model.model.model.layers"), config);
    assertTrue(config.contains("\"peft_type\": \"ADALORA\""), config);
    try (LlamaModel loaded = PeftAdapters.loadOnto(dir, out, Compute.CPU_FLOAT32)) {
      assertArrayEquals(tuned, logits(loaded), 1e-5f);
    }
    IllegalArgumentException early =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new AdaLoraSettings(
                    4, 2, 10, 0, 1, 0.85, 0.85, 0.5, 10, 8, 0.0, List.of("q_proj"), Map.of()));
    assertTrue(early.getMessage().contains("tinit 10"), early.getMessage());
  }
}
