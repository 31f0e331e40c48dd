package dev.tuneforge.llm.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * What Gemma 2 ({@code gemma2}) and Gemma 3 ({@code gemma3_text}) add to the Llama block, as
 * transformers' modeling_gemma2 / modeling_gemma3 compute it: embeddings scaled by √hidden, (1 + w)
 * RMSNorms computed in float32, a norm after attention and one before and after the feed-forward,
 * gelu_pytorch_tanh, attention scaled by {@code query_pre_attn_scalar^-0.5}, tanh soft-capping of
 * attention scores and final logits, and sliding-window attention on some layers only. Gemma 3 adds
 * per-head q/k norms (as Qwen 3, but (1 + w)) and a RoPE base of its own on the sliding layers.
 *
 * @param queryPreAttnScalar scores are {@code q k^T / sqrt(queryPreAttnScalar)}
 * @param attnLogitSoftcap {@code cap * tanh(scores / cap)} before the mask; 0 for none
 * @param finalLogitSoftcap the same on the LM head's logits; 0 for none
 * @param localRopeTheta the RoPE base of the sliding layers ({@code rope_local_base_freq}); Gemma 2
 *     uses {@code rope_theta} everywhere
 * @param slidingLayers per layer, whether it attends within {@code sliding_window} only
 */
public record Gemma(
    double queryPreAttnScalar,
    double attnLogitSoftcap,
    double finalLogitSoftcap,
    double localRopeTheta,
    List<Boolean> slidingLayers) {

  public Gemma {
    if (!(queryPreAttnScalar > 0)) {
      throw new IllegalArgumentException(
          "query_pre_attn_scalar must be > 0 but was " + queryPreAttnScalar);
    }
    if (!(attnLogitSoftcap >= 0) || !(finalLogitSoftcap >= 0)) {
      throw new IllegalArgumentException(
          "attn_logit_softcapping and final_logit_softcapping must be > 0 or null but were "
              + attnLogitSoftcap
              + " and "
              + finalLogitSoftcap);
    }
    if (!(localRopeTheta > 0)) {
      throw new IllegalArgumentException(
          "rope_local_base_freq must be > 0 but was " + localRopeTheta);
    }
    slidingLayers = List.copyOf(slidingLayers);
  }

  /** model_type values that are Gemma. */
  public static boolean isGemma(String modelType) {
    return modelType.equals("gemma2") || modelType.equals("gemma3_text");
  }

  /** Whether layer {@code i} uses the sliding window (and, for Gemma 3, the local RoPE base). */
  public boolean sliding(int layer) {
    return slidingLayers.get(layer);
  }

  /** Reads the Gemma fields of a config.json ({@code ropeTheta} already read). */
  static Gemma parse(JsonObject json, String modelType, int numLayers, double ropeTheta) {
    boolean gemma3 = modelType.equals("gemma3_text");
    if (bool(json, "use_bidirectional_attention")) {
      throw new IllegalArgumentException(
          "use_bidirectional_attention true is not supported (an embedding model); supported:"
              + " causal attention");
    }
    double localTheta = gemma3 ? number(json, "rope_local_base_freq", 10_000.0) : ropeTheta;
    JsonElement parameters = json.get("rope_parameters");
    if (parameters != null && parameters.isJsonObject()) {
      JsonObject sliding = parameters.getAsJsonObject().getAsJsonObject("sliding_attention");
      if (sliding != null && gemma3) {
        localTheta = number(sliding, "rope_theta", localTheta);
      }
    }
    return new Gemma(
        number(json, "query_pre_attn_scalar", 256.0),
        softcap(json, "attn_logit_softcapping", gemma3 ? 0.0 : 50.0),
        softcap(json, "final_logit_softcapping", gemma3 ? 0.0 : 30.0),
        localTheta,
        layerTypes(json, numLayers, gemma3 ? 6 : 2));
  }

  /**
   * {@code layer_types} when given ("sliding_attention" / "full_attention"), otherwise every {@code
   * pattern}-th layer full and the rest sliding, as transformers derives it: Gemma 2 alternates
   * starting with a sliding layer, Gemma 3 has five sliding layers to one full ({@code
   * sliding_window_pattern}).
   */
  private static List<Boolean> layerTypes(JsonObject json, int numLayers, int defaultPattern) {
    List<Boolean> sliding = new ArrayList<>();
    JsonElement types = json.get("layer_types");
    if (types != null && types.isJsonArray()) {
      for (JsonElement type : types.getAsJsonArray()) {
        String name = type.getAsString();
        if (!name.equals("sliding_attention") && !name.equals("full_attention")) {
          throw new IllegalArgumentException(
              "layer_types entry \""
                  + name
                  + "\" is not supported; supported: sliding_attention, full_attention");
        }
        sliding.add(name.equals("sliding_attention"));
      }
      if (sliding.size() != numLayers) {
        throw new IllegalArgumentException(
            "layer_types has " + sliding.size() + " entries but num_hidden_layers is " + numLayers);
      }
      return sliding;
    }
    int pattern = (int) number(json, "sliding_window_pattern", defaultPattern);
    if (pattern <= 0) {
      throw new IllegalArgumentException("sliding_window_pattern must be > 0 but was " + pattern);
    }
    for (int i = 0; i < numLayers; i++) {
      sliding.add((i + 1) % pattern != 0);
    }
    return sliding;
  }

  /** Writes the Gemma fields into a config.json object. */
  void write(JsonObject json, boolean gemma3) {
    json.addProperty("hidden_activation", "gelu_pytorch_tanh");
    json.addProperty("query_pre_attn_scalar", queryPreAttnScalar);
    cap(json, "attn_logit_softcapping", attnLogitSoftcap);
    cap(json, "final_logit_softcapping", finalLogitSoftcap);
    if (gemma3) {
      json.addProperty("rope_local_base_freq", localRopeTheta);
    }
    JsonArray types = new JsonArray();
    slidingLayers.forEach(s -> types.add(s ? "sliding_attention" : "full_attention"));
    json.add("layer_types", types);
  }

  private static void cap(JsonObject json, String key, double value) {
    if (value > 0) {
      json.addProperty(key, value);
    } else {
      json.add(key, JsonNull.INSTANCE);
    }
  }

  /** A soft-capping value: its default when absent, none (0) when null. */
  private static double softcap(JsonObject json, String key, double fallback) {
    JsonElement value = json.get(key);
    return value == null ? fallback : value.isJsonNull() ? 0.0 : value.getAsDouble();
  }

  private static double number(JsonObject json, String key, double fallback) {
    JsonElement value = json.get(key);
    return value == null || value.isJsonNull() ? fallback : value.getAsDouble();
  }

  private static boolean bool(JsonObject json, String key) {
    JsonElement value = json.get(key);
    return value != null && !value.isJsonNull() && value.getAsBoolean();
  }
}
