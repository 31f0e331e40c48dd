package dev.tuneforge.llm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import org.junit.jupiter.api.Test;

class LlamaConfigTest {

  private static JsonObject tiny() {
    return TinyLlama.config(TinyLlama.Size.DEFAULT).toJson();
  }

  private static String error(JsonObject json) {
    return assertThrows(IllegalArgumentException.class, () -> LlamaConfig.parse(json)).getMessage();
  }

  @Test
  void configRoundTripsThroughJson() {
    LlamaConfig config = TinyLlama.config(TinyLlama.Size.DEFAULT);
    assertEquals(config, LlamaConfig.parse(config.toJson()));
  }

  @Test
  void headCountsThatDoNotDivideAreNamedWithTheirValues() {
    JsonObject json = tiny();
    json.addProperty("num_attention_heads", 32);
    json.addProperty("num_key_value_heads", 6);
    assertEquals(
        "num_attention_heads (32) must be divisible by num_key_value_heads (6)", error(json));
  }

  @Test
  void unsupportedModelTypeAndArchitectureAreRefusedByName() {
    JsonObject gpt2 = tiny();
    gpt2.addProperty("model_type", "gpt2");
    assertEquals(
        "model_type \"gpt2\" is not supported; supported: [gemma2, gemma3_text, llama, mistral,"
            + " phi3, qwen2, qwen3]",
        error(gpt2));
    JsonObject seq = tiny();
    seq.add("architectures", JsonParser.parseString("[\"LlamaForTokenClassification\"]"));
    assertEquals(
        "architecture \"LlamaForTokenClassification\" is not supported; supported:"
            + " [Gemma2ForCausalLM, Gemma2ForSequenceClassification, Gemma3ForCausalLM,"
            + " Gemma3TextForSequenceClassification, LlamaForCausalLM,"
            + " LlamaForSequenceClassification, MistralForCausalLM,"
            + " MistralForSequenceClassification, Phi3ForCausalLM, Phi3ForSequenceClassification,"
            + " Qwen2ForCausalLM, Qwen2ForSequenceClassification, Qwen3ForCausalLM,"
            + " Qwen3ForSequenceClassification]",
        error(seq));
  }

  /**
   * Qwen's layer-wise sliding attention (use_sliding_window with max_window_layers) is refused by
   * name rather than ignored; Mistral's sliding_window is read, and a null one is full attention.
   */
  @Test
  void slidingWindowsAreReadOrRefusedByName() {
    JsonObject qwen = tiny();
    qwen.addProperty("model_type", "qwen3");
    qwen.addProperty("use_sliding_window", true);
    assertTrue(
        error(qwen).startsWith("use_sliding_window true is not supported for qwen3"), error(qwen));
    JsonObject mistral = tiny();
    mistral.addProperty("model_type", "mistral");
    mistral.addProperty("sliding_window", 4096);
    assertEquals(4096, LlamaConfig.parse(mistral).slidingWindow());
    assertEquals(4096, LlamaConfig.parse(LlamaConfig.parse(mistral).toJson()).slidingWindow());
    mistral.add("sliding_window", com.google.gson.JsonNull.INSTANCE);
    assertEquals(0, LlamaConfig.parse(mistral).slidingWindow());
  }

  /** Phi-3's long-context variants (longrope) and partial rotary embeddings are refused by name. */
  @Test
  void phi3VariantsThisImplementationDoesNotRunAreRefusedByName() {
    JsonObject phi3 = tiny();
    phi3.addProperty("model_type", "phi3");
    phi3.addProperty("sliding_window", 2047);
    assertEquals(2047, LlamaConfig.parse(phi3).slidingWindow());
    assertTrue(LlamaConfig.parse(phi3).fusedProjections());
    JsonObject longrope = phi3.deepCopy();
    longrope.add(
        "rope_scaling",
        JsonParser.parseString(
            "{\"type\": \"longrope\", \"short_factor\": [1], \"long_factor\": [2]}"));
    assertEquals(
        "rope_scaling.rope_type \"longrope\" is not supported; supported: linear, llama3",
        error(longrope));
    JsonObject partial = phi3.deepCopy();
    partial.addProperty("partial_rotary_factor", 0.75);
    assertTrue(
        error(partial).startsWith("partial_rotary_factor 0.75 is not supported"), error(partial));
  }

  @Test
  void badValuesNameTheKey() {
    JsonObject json = tiny();
    json.addProperty("hidden_size", 0);
    assertEquals("hidden_size must be > 0 but was 0", error(json));
    JsonObject act = tiny();
    act.addProperty("hidden_act", "gelu");
    assertEquals("hidden_act \"gelu\" is not supported for llama; supported: silu", error(act));
    JsonObject rope = tiny();
    rope.add("rope_scaling", JsonParser.parseString("{\"rope_type\":\"yarn\",\"factor\":4}"));
    assertEquals(
        "rope_scaling.rope_type \"yarn\" is not supported; supported: linear, llama3", error(rope));
  }

  @Test
  void qwen2HasQkvBiasesButNoOutputBias() {
    JsonObject json = tiny();
    json.addProperty("model_type", "qwen2");
    json.add("architectures", JsonParser.parseString("[\"Qwen2ForCausalLM\"]"));
    LlamaConfig config = LlamaConfig.parse(json);
    assertEquals(true, config.qkvBias());
    assertEquals(false, config.outputBias());
  }

  /** The config.json of google/gemma-3-1b-it as published (fields the model reads). */
  private static JsonObject gemma3OneB() {
    return JsonParser.parseString(
            "{\"architectures\":[\"Gemma3ForCausalLM\"],\"attention_bias\":false,"
                + "\"attn_logit_softcapping\":null,\"bos_token_id\":2,\"eos_token_id\":[1,106],"
                + "\"final_logit_softcapping\":null,\"head_dim\":256,"
                + "\"hidden_activation\":\"gelu_pytorch_tanh\",\"hidden_size\":1152,"
                + "\"intermediate_size\":6912,\"max_position_embeddings\":32768,"
                + "\"model_type\":\"gemma3_text\",\"num_attention_heads\":4,"
                + "\"num_hidden_layers\":26,\"num_key_value_heads\":1,\"pad_token_id\":0,"
                + "\"query_pre_attn_scalar\":256,\"rms_norm_eps\":1e-06,"
                + "\"rope_local_base_freq\":10000,\"rope_scaling\":null,\"rope_theta\":1000000,"
                + "\"sliding_window\":512,\"sliding_window_pattern\":6,"
                + "\"torch_dtype\":\"bfloat16\",\"vocab_size\":262144}")
        .getAsJsonObject();
  }

  /**
   * Gemma 3: five sliding layers to one full, the local RoPE base, q/k norms, tied embeddings by
   * default, no soft-capping; the config survives a round trip through config.json.
   */
  @Test
  void gemma3ConfigIsReadAsTransformersReadsIt() {
    LlamaConfig config = LlamaConfig.parse(gemma3OneB());
    Gemma gemma = config.gemma().orElseThrow();
    assertEquals(
        java.util.stream.IntStream.range(0, 26).mapToObj(i -> (i + 1) % 6 != 0).toList(),
        gemma.slidingLayers());
    assertEquals(512, config.windowOf(0));
    assertEquals(0, config.windowOf(5), "every sixth layer attends globally");
    assertEquals(10000.0, gemma.localRopeTheta());
    assertEquals(1_000_000.0, config.ropeTheta());
    assertEquals(0.0, gemma.attnLogitSoftcap());
    assertEquals(0.0, gemma.finalLogitSoftcap());
    assertTrue(config.qkNorm());
    assertTrue(config.tieWordEmbeddings(), "Gemma ties embeddings unless told otherwise");
    assertEquals(config, LlamaConfig.parse(config.toJson()));
    JsonObject types = gemma3OneB();
    com.google.gson.JsonArray layerTypes = new com.google.gson.JsonArray();
    for (int i = 0; i < 26; i++) {
      layerTypes.add(i % 2 == 0 ? "full_attention" : "sliding_attention");
    }
    types.add("layer_types", layerTypes);
    assertEquals(
        java.util.stream.IntStream.range(0, 26).mapToObj(i -> i % 2 == 1).toList(),
        LlamaConfig.parse(types).gemma().orElseThrow().slidingLayers(),
        "layer_types wins over sliding_window_pattern");
  }

  /** Gemma 2's defaults: soft-capping 50 and 30, alternating layers starting with a sliding one. */
  @Test
  void gemma2DefaultsFollowTransformers() {
    JsonObject json = gemma3OneB();
    json.addProperty("model_type", "gemma2");
    json.add("architectures", JsonParser.parseString("[\"Gemma2ForCausalLM\"]"));
    json.remove("attn_logit_softcapping");
    json.remove("final_logit_softcapping");
    json.remove("sliding_window_pattern");
    LlamaConfig config = LlamaConfig.parse(json);
    Gemma gemma = config.gemma().orElseThrow();
    assertEquals(50.0, gemma.attnLogitSoftcap());
    assertEquals(30.0, gemma.finalLogitSoftcap());
    assertEquals(true, gemma.sliding(0));
    assertEquals(false, gemma.sliding(1));
    assertEquals(false, config.qkNorm(), "Gemma 2 has no q/k norms");
    assertEquals(config, LlamaConfig.parse(config.toJson()));
    json.add("final_logit_softcapping", com.google.gson.JsonNull.INSTANCE);
    assertEquals(0.0, LlamaConfig.parse(json).gemma().orElseThrow().finalLogitSoftcap());
  }

  @Test
  void gemmaVariantsThisImplementationDoesNotRunAreRefusedByName() {
    JsonObject gelu = gemma3OneB();
    gelu.addProperty("hidden_activation", "gelu");
    assertEquals(
        "hidden_activation \"gelu\" is not supported for gemma3_text; supported: gelu_pytorch_tanh",
        error(gelu));
    JsonObject embedding = gemma3OneB();
    embedding.addProperty("use_bidirectional_attention", true);
    assertTrue(error(embedding).startsWith("use_bidirectional_attention true is not supported"));
    JsonObject types = gemma3OneB();
    types.add("layer_types", JsonParser.parseString("[\"full_attention\"]"));
    assertEquals("layer_types has 1 entries but num_hidden_layers is 26", error(types));
    JsonObject multimodal = gemma3OneB();
    multimodal.addProperty("model_type", "gemma3");
    assertTrue(error(multimodal).startsWith("model_type \"gemma3\" is not supported"));
  }
}
