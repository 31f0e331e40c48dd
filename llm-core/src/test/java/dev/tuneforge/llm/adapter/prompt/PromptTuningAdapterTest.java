package dev.tuneforge.llm.adapter.prompt;

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
 * Prompt tuning against the independent reference (tools/reference/llama_reference.py computes the
 * log-probs of a GQA model after 5 virtual tokens, as peft concatenates them before the inputs),
 * and what the virtual tokens must not break: KV-cached decoding, left padding in a batch, TEXT
 * initialisation, PEFT's file layout.
 */
class PromptTuningAdapterTest {
  static final Path REFERENCE = Path.of("src/test/resources/reference");
  @TempDir static Path dir;
  static final long[] IDS = {268, 72, 101, 108, 108, 111, 262, 32, 119, 267};

  @BeforeAll
  static void writeBase() {
    TinyLlama.write(dir, 4, TinyLlama.Size.DEFAULT);
  }

  static LlamaModel withAdapter(PromptTuningAdapter adapter) {
    return LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
  }

  static PromptTuningAdapter random(int tokens) {
    return PromptTuningAdapter.create(
        new PromptTuningSettings(tokens, "RANDOM", null, null), null, 11);
  }

  @Test
  void theReferencesPromptTuningAdapterGivesItsLogProbs() throws Exception {
    Path adapterDir = REFERENCE.resolve("gqa-prompt-tuning-adapter");
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
          assertEquals(
              new Shape(1, ids.length, 96), logits.getShape(), "virtual positions dropped");
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
    assertTrue(moved > 0.1, "the virtual tokens move the reference by " + moved);
  }

  @Test
  void cachedDecodingTokenByTokenEqualsTheFullForward() {
    PromptTuningAdapter adapter = random(3);
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
        assertEquals(3 + IDS.length, cache.length(), "the cache holds the virtual tokens");
        assertEquals(3, cache.virtualLength());
      }
    }
  }

  @Test
  void generationCachedEqualsUncachedAndAPaddedBatchEqualsEachRowAlone() {
    PromptTuningAdapter adapter = random(4);
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
      // Off, it generates what the base does.
      adapter.setEnabled(false);
      try (LlamaModel base = LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE)) {
        Generated plain =
            new Generator(base, tokenizer)
                .generate(prompts.subList(0, 1), greedy, Generator.TokenListener.NONE, 0)
                .get(0);
        Generated disabled =
            generator
                .generate(prompts.subList(0, 1), greedy, Generator.TokenListener.NONE, 0)
                .get(0);
        assertArrayEquals(plain.tokens(), disabled.tokens());
        for (int t = 0; t < plain.tokens().length; t++) {
          assertEquals(
              plain.logprobs().get(t).logprob(), disabled.logprobs().get(t).logprob(), 1e-6);
        }
      }
    }
  }

  @Test
  void textInitialisationStartsFromTheTextsTokenEmbeddingsRepeated() {
    PromptTuningSettings settings = new PromptTuningSettings(7, "TEXT", "Classify it", "tiny");
    int[] textIds = {1, 40, 41};
    PromptTuningAdapter adapter = PromptTuningAdapter.create(settings, textIds, 0);
    try (LlamaModel model = withAdapter(adapter)) {
      float[] prompt = adapter.parameters().get(PromptTuningAdapter.TENSOR).toFloatArray();
      float[] embedding = model.weights().get("model.embed_tokens.weight").toFloatArray();
      int hidden = model.config().hiddenSize();
      int[] expected = {1, 40, 41, 1, 40, 41, 1};
      for (int v = 0; v < expected.length; v++) {
        for (int h = 0; h < hidden; h++) {
          assertEquals(embedding[expected[v] * hidden + h], prompt[v * hidden + h], 0f);
        }
      }
    }
    assertThrows(
        IllegalArgumentException.class, () -> new PromptTuningSettings(4, "TEXT", " ", null));
    assertThrows(
        IllegalArgumentException.class, () -> new PromptTuningSettings(0, "RANDOM", null, null));
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class, () -> new PromptTuningSettings(4, "ZEROS", null, null));
    assertTrue(unknown.getMessage().contains("RANDOM, TEXT, SAMPLE_VOCAB"), unknown.getMessage());
  }

  @Test
  void itSavesPeftsLayoutAndRefusesPackingAndEncoderDecoderConfigs(@TempDir Path out)
      throws Exception {
    PromptTuningAdapter adapter = random(5);
    try (LlamaModel model = withAdapter(adapter);
        NDManager scope = model.manager().newSubManager()) {
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
    assertEquals("PROMPT_TUNING", config.get("peft_type").getAsString());
    assertEquals(5, config.get("num_virtual_tokens").getAsInt());
    assertEquals(64, config.get("token_dim").getAsInt());
    assertEquals(1, config.get("num_transformer_submodules").getAsInt());
    var header =
        dev.tuneforge.llm.checkpoint.Safetensors.readHeader(out.resolve(PeftAdapters.WEIGHTS_FILE));
    assertEquals(Set.of("prompt_embeddings"), header.tensors().keySet());
    config.addProperty("num_transformer_submodules", 2);
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> PromptTuningAdapter.settings(config, out.resolve("adapter_config.json")));
    assertTrue(refused.getMessage().contains("encoder-decoder"), refused.getMessage());
  }
}
