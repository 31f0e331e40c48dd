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
        "model_type \"gpt2\" is not supported; supported: [llama, mistral, phi3, qwen2, qwen3]",
        error(gpt2));
    JsonObject seq = tiny();
    seq.add("architectures", JsonParser.parseString("[\"LlamaForTokenClassification\"]"));
    assertEquals(
        "architecture \"LlamaForTokenClassification\" is not supported; supported:"
            + " [LlamaForCausalLM, LlamaForSequenceClassification, MistralForCausalLM,"
            + " MistralForSequenceClassification, Phi3ForCausalLM, Qwen2ForCausalLM,"
            + " Qwen2ForSequenceClassification, Qwen3ForCausalLM, Qwen3ForSequenceClassification]",
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
    assertEquals("hidden_act \"gelu\" is not supported; supported: silu", error(act));
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
}
