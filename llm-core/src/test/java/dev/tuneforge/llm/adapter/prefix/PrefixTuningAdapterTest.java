package dev.tuneforge.llm.adapter.prefix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.PeftAdapters;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.KvCache;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prefix tuning against the independent reference (tools/reference/llama_reference.py computes the
 * log-probs of a GQA model with 4 prefix keys and values before every layer's, sized by the
 * key/value heads as peft sizes them), and what the prefix must not break: KV-cached decoding, left
 * padding in a batch, the projection MLP's saved output, PEFT's file layout.
 */
class PrefixTuningAdapterTest {
  static final Path REFERENCE = Path.of("src/test/resources/reference");
  @TempDir static Path dir;
  static final long[] IDS = {268, 72, 101, 108, 108, 111, 262, 32, 119, 267};

  @BeforeAll
  static void writeBase() {
    TinyLlama.write(dir, 4, TinyLlama.Size.DEFAULT);
  }

  static LlamaModel withAdapter(PrefixTuningAdapter adapter) {
    return LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
  }

  static float[] logits(LlamaModel model) {
    try (NDManager scope = model.manager().newSubManager()) {
      return model.forward(scope.create(IDS, new Shape(1, IDS.length)), null, null).toFloatArray();
    }
  }

  @Test
  void theReferencesPrefixTuningAdapterGivesItsLogProbs() throws Exception {
    Path adapterDir = REFERENCE.resolve("gqa-prefix-tuning-adapter");
    JsonObject expected =
        JsonParser.parseString(Files.readString(adapterDir.resolve("expected.json")))
            .getAsJsonObject();
    double worst = 0;
    double moved = 0;
    try (LlamaModel model =
            PeftAdapters.loadOnto(REFERENCE.resolve("gqa"), adapterDir, Compute.CPU_FLOAT32);
        LlamaModel base =
            LlamaModel.load(REFERENCE.resolve("gqa"), Compute.CPU_FLOAT32, Projections.DENSE)) {
      var sequences = expected.getAsJsonArray("sequences");
      for (int s = 0; s < sequences.size(); s++) {
        var sequence = sequences.get(s).getAsJsonArray();
        long[] ids = new long[sequence.size()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = sequence.get(i).getAsLong();
        }
        var want = expected.getAsJsonArray("logprobs").get(s).getAsJsonArray();
        try (NDManager scope = model.manager().newSubManager()) {
          NDArray input = scope.create(ids, new Shape(1, ids.length));
          NDArray logits = model.forward(input, null, null);
          assertEquals(new Shape(1, ids.length, 96), logits.getShape());
          float[] ours = logits.logSoftmax(-1).toFloatArray();
          float[] plain = base.forward(input, null, null).logSoftmax(-1).toFloatArray();
          for (int t = 1; t < ids.length; t++) {
            int at = (t - 1) * 96 + (int) ids[t];
            worst = Math.max(worst, Math.abs(ours[at] - want.get(t).getAsDouble()));
            moved = Math.max(moved, Math.abs(plain[at] - want.get(t).getAsDouble()));
          }
        }
      }
    }
    assertTrue(worst <= 1e-4, "largest log-prob difference " + worst);
    assertTrue(moved > 0.1, "the prefix moves the reference by " + moved);
  }

  @Test
  void cachedDecodingTokenByTokenEqualsTheFullForward() {
    PrefixTuningAdapter adapter =
        PrefixTuningAdapter.create(new PrefixTuningSettings(3, true, 32), 4);
    try (LlamaModel model = withAdapter(adapter);
        NDManager scope = model.manager().newSubManager()) {
      float[] full =
          model.forward(scope.create(IDS, new Shape(1, IDS.length)), null, null).toFloatArray();
      try (KvCache cache = new KvCache(scope, model.numLayers())) {
        for (int t = 0; t < IDS.length; t++) {
          NDArray step = scope.create(new long[] {IDS[t]}, new Shape(1, 1));
          float[] logits = model.forward(step, null, cache).toFloatArray();
          for (int v = 0; v < logits.length; v++) {
            assertEquals(full[t * logits.length + v], logits[v], 1e-4, "token " + t);
          }
        }
        assertEquals(3 + IDS.length, cache.length(), "the cache holds the prefix");
        assertEquals(3, cache.virtualLength());
      }
    }
  }

  @Test
  void generationCachedEqualsUncachedAndAPaddedBatchEqualsEachRowAlone() {
    PrefixTuningAdapter adapter =
        PrefixTuningAdapter.create(new PrefixTuningSettings(4, false, 0), 6);
    try (LlamaModel model = withAdapter(adapter);
        Tokenizer tokenizer = Tokenizer.load(dir)) {
      Generator generator = new Generator(model, tokenizer);
      List<int[]> prompts = List.of(tokenizer.encode("Once upon a time"), tokenizer.encode("hi"));
      GenerationConfig greedy = GenerationConfig.greedy(12, Set.of());
      List<Generated> cached = generator.generate(prompts, greedy, Generator.TokenListener.NONE, 0);
      List<Generated> uncached =
          generator.generate(prompts, greedy.withCache(false), Generator.TokenListener.NONE, 0);
      for (int i = 0; i < prompts.size(); i++) {
        assertArrayEquals(uncached.get(i).tokens(), cached.get(i).tokens(), "row " + i);
        Generated alone =
            generator
                .generate(List.of(prompts.get(i)), greedy, Generator.TokenListener.NONE, 0)
                .get(0);
        assertArrayEquals(alone.tokens(), cached.get(i).tokens(), "row " + i + " alone");
        for (int t = 0; t < alone.tokens().length; t++) {
          assertEquals(
              alone.logprobs().get(t).logprob(),
              cached.get(i).logprobs().get(t).logprob(),
              1e-4,
              "logprob " + t);
        }
      }
    }
  }

  /**
   * With the MLP, PEFT saves its output: the directory reloads (without the MLP) to the same
   * logits.
   */
  @Test
  void aProjectedPrefixSavesItsOutputInPeftsLayout(@TempDir Path out) throws Exception {
    PrefixTuningAdapter adapter =
        PrefixTuningAdapter.create(new PrefixTuningSettings(5, true, 48), 9);
    float[] trained;
    try (LlamaModel model = withAdapter(adapter);
        NDManager scope = model.manager().newSubManager()) {
      assertEquals(5, adapter.parameters().size(), "embedding and the MLP's two layers");
      assertEquals(
          new Shape(5, 32),
          adapter.parameters().get("prefix_encoder.embedding.weight").getShape(),
          "token_dim is the key/value heads' width (2 x 16)");
      trained = logits(model);
      adapter.save(out, "tiny");
      NDArray ids = scope.create(IDS, new Shape(1, IDS.length));
      IllegalStateException packed =
          assertThrows(
              IllegalStateException.class,
              () -> model.forwardPacked(ids, scope.ones(ids.getShape(), ids.getDataType())));
      assertTrue(packed.getMessage().contains("packing off"), packed.getMessage());
    }
    JsonObject config =
        JsonParser.parseString(Files.readString(out.resolve(PeftAdapters.CONFIG_FILE)))
            .getAsJsonObject();
    assertEquals("PREFIX_TUNING", config.get("peft_type").getAsString());
    assertEquals(32, config.get("token_dim").getAsInt());
    assertEquals(2, config.get("num_attention_heads").getAsInt());
    assertEquals(48, config.get("encoder_hidden_size").getAsInt());
    assertTrue(config.get("prefix_projection").getAsBoolean());
    var header =
        dev.tuneforge.llm.checkpoint.Safetensors.readHeader(out.resolve(PeftAdapters.WEIGHTS_FILE));
    assertEquals(Set.of("prompt_embeddings"), header.tensors().keySet());
    try (LlamaModel loaded = PeftAdapters.loadOnto(dir, out, Compute.CPU_FLOAT32)) {
      assertArrayEquals(trained, logits(loaded), 1e-5f);
    }
    assertThrows(IllegalArgumentException.class, () -> new PrefixTuningSettings(4, false, 64));
    assertThrows(IllegalArgumentException.class, () -> new PrefixTuningSettings(0, false, 0));
  }
}
