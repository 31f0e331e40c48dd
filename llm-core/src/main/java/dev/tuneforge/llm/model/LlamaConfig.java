package dev.tuneforge.llm.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The architecture of a Llama-family model, read from a Hugging Face {@code config.json}. Llama,
 * Mistral, Phi-3, Qwen2 and Qwen3 share it: Qwen2 differs by q/k/v biases, Qwen3 by a per-head
 * RMSNorm of queries and keys, Mistral by its sliding window, Phi-3 by fused qkv and gate/up
 * projections and a sliding window. Gemma 2 and Gemma 3 add what {@link Gemma} describes.
 *
 * @param qkvBias biases on q, k and v ({@code attention_bias}, or always for Qwen2)
 * @param outputBias bias on o_proj ({@code attention_bias} for Llama, never for Qwen2)
 * @param eosTokenIds one or more ids that end generation
 * @param qkNorm per-head RMSNorm of queries and keys over head_dim before RoPE (Qwen3's q_norm and
 *     k_norm)
 * @param slidingWindow a query sees only the last {@code slidingWindow} keys, itself included
 *     (Mistral's {@code sliding_window}); 0 for full causal attention. With {@link Gemma} only its
 *     sliding layers use it.
 * @param gemma Gemma 2 / 3's additions, empty for the other families
 */
public record LlamaConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    double rmsNormEps,
    double ropeTheta,
    Optional<RopeScaling> ropeScaling,
    int maxPositionEmbeddings,
    boolean qkvBias,
    boolean outputBias,
    boolean mlpBias,
    boolean tieWordEmbeddings,
    int bosTokenId,
    List<Integer> eosTokenIds,
    int padTokenId,
    boolean qkNorm,
    int slidingWindow,
    Optional<Gemma> gemma) {

  /** model_type values this implementation runs. */
  public static final Set<String> MODEL_TYPES =
      Set.of("gemma2", "gemma3_text", "llama", "mistral", "phi3", "qwen2", "qwen3");

  /** architectures values this implementation runs. */
  public static final Set<String> ARCHITECTURES =
      Set.of(
          "Gemma2ForCausalLM",
          "Gemma3ForCausalLM",
          "LlamaForCausalLM",
          "MistralForCausalLM",
          "Phi3ForCausalLM",
          "Qwen2ForCausalLM",
          "Qwen3ForCausalLM",
          "Gemma2ForSequenceClassification",
          "Gemma3TextForSequenceClassification",
          "LlamaForSequenceClassification",
          "Phi3ForSequenceClassification",
          "MistralForSequenceClassification",
          "Qwen2ForSequenceClassification",
          "Qwen3ForSequenceClassification");

  public LlamaConfig {
    positive("vocab_size", vocabSize);
    positive("hidden_size", hiddenSize);
    positive("intermediate_size", intermediateSize);
    positive("num_hidden_layers", numLayers);
    positive("num_attention_heads", numHeads);
    positive("num_key_value_heads", numKvHeads);
    positive("head_dim", headDim);
    positive("max_position_embeddings", maxPositionEmbeddings);
    if (slidingWindow < 0) {
      throw new IllegalArgumentException("sliding_window must be > 0 but was " + slidingWindow);
    }
    if (numHeads % numKvHeads != 0) {
      throw new IllegalArgumentException(
          "num_attention_heads ("
              + numHeads
              + ") must be divisible by num_key_value_heads ("
              + numKvHeads
              + ")");
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException(
          "head_dim (" + headDim + ") must be even for rotary embeddings");
    }
    if (!(rmsNormEps > 0)) {
      throw new IllegalArgumentException("rms_norm_eps must be > 0 but was " + rmsNormEps);
    }
    if (!(ropeTheta > 0)) {
      throw new IllegalArgumentException("rope_theta must be > 0 but was " + ropeTheta);
    }
    eosTokenIds = List.copyOf(eosTokenIds);
    if (gemma.isPresent() && gemma.get().slidingLayers().size() != numLayers) {
      throw new IllegalArgumentException(
          "layer types cover "
              + gemma.get().slidingLayers().size()
              + " layers but num_hidden_layers is "
              + numLayers);
    }
  }

  /**
   * The sliding window layer {@code layer} attends within: Gemma's sliding layers and every layer
   * of Mistral and Phi-3 use {@code slidingWindow}; 0 for full causal attention.
   */
  public int windowOf(int layer) {
    return gemma.map(g -> g.sliding(layer) ? slidingWindow : 0).orElse(slidingWindow);
  }

  /** The window of the layers that are not Gemma's sliding ones (0: full causal attention). */
  public int globalWindow() {
    return gemma.isPresent() ? 0 : slidingWindow;
  }

  /** Whether q/k/v and gate/up are stored as Phi-3's fused qkv_proj and gate_up_proj. */
  public boolean fusedProjections() {
    return modelType.equals("phi3");
  }

  /** Query heads that share one key/value head. */
  public int groupSize() {
    return numHeads / numKvHeads;
  }

  /** Reads {@code dir/config.json}. */
  /** The {@code torch_dtype} config.json records ("float32" when it records none). */
  public static String storedDtype(Path dir) {
    try {
      JsonObject json =
          com.google.gson.JsonParser.parseString(Files.readString(dir.resolve("config.json")))
              .getAsJsonObject();
      return json.has("torch_dtype") && json.get("torch_dtype").isJsonPrimitive()
          ? json.get("torch_dtype").getAsString()
          : "float32";
    } catch (java.io.IOException | RuntimeException e) {
      return "float32";
    }
  }

  public static LlamaConfig load(Path dir) {
    Path file = dir.resolve("config.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          dir + " is not a Hugging Face model directory: config.json is missing");
    }
    try {
      return parse(JsonParser.parseString(Files.readString(file)).getAsJsonObject());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    } catch (IllegalStateException | com.google.gson.JsonParseException e) {
      throw new IllegalArgumentException(file + " is not a JSON object: " + e.getMessage(), e);
    }
  }

  /** Parses a config.json object, refusing unsupported models by name. */
  public static LlamaConfig parse(JsonObject json) {
    String modelType = string(json, "model_type", "");
    if (!MODEL_TYPES.contains(modelType)) {
      throw new IllegalArgumentException(
          "model_type \""
              + modelType
              + "\" is not supported; supported: "
              + MODEL_TYPES.stream().sorted().toList());
    }
    if (json.has("architectures")) {
      for (JsonElement architecture : json.getAsJsonArray("architectures")) {
        if (!ARCHITECTURES.contains(architecture.getAsString())) {
          throw new IllegalArgumentException(
              "architecture \""
                  + architecture.getAsString()
                  + "\" is not supported; supported: "
                  + ARCHITECTURES.stream().sorted().toList());
        }
      }
    }
    boolean gemma = Gemma.isGemma(modelType);
    String activationKey =
        gemma && json.has("hidden_activation") ? "hidden_activation" : "hidden_act";
    String activation = string(json, activationKey, gemma ? "gelu_pytorch_tanh" : "silu");
    String expected = gemma ? "gelu_pytorch_tanh" : "silu";
    if (!activation.equals(expected)) {
      throw new IllegalArgumentException(
          activationKey
              + " \""
              + activation
              + "\" is not supported for "
              + modelType
              + "; supported: "
              + expected);
    }
    int hiddenSize = integer(json, "hidden_size", -1);
    int numHeads = integer(json, "num_attention_heads", -1);
    boolean qwen2 = modelType.equals("qwen2");
    boolean attentionBias = bool(json, "attention_bias", false);
    if ((qwen2 || modelType.equals("qwen3")) && bool(json, "use_sliding_window", false)) {
      throw new IllegalArgumentException(
          "use_sliding_window true is not supported for "
              + modelType
              + " (sliding attention on the layers from max_window_layers); set it false, as the"
              + " published Qwen checkpoints do");
    }
    boolean windowed = modelType.equals("mistral") || modelType.equals("phi3");
    int slidingWindow =
        windowed
            ? integer(json, "sliding_window", 0)
            : gemma ? integer(json, "sliding_window", 4096) : 0;
    int numLayers = integer(json, "num_hidden_layers", -1);
    double ropeTheta =
        number(json, "rope_theta", modelType.equals("gemma3_text") ? 1_000_000.0 : 10000.0);
    if (number(json, "partial_rotary_factor", 1.0) != 1.0) {
      throw new IllegalArgumentException(
          "partial_rotary_factor "
              + number(json, "partial_rotary_factor", 1.0)
              + " is not supported; rotary embeddings cover the whole head (1.0)");
    }
    return new LlamaConfig(
        modelType,
        integer(json, "vocab_size", -1),
        hiddenSize,
        integer(json, "intermediate_size", -1),
        numLayers,
        numHeads,
        integer(json, "num_key_value_heads", numHeads),
        integer(json, "head_dim", gemma ? 256 : numHeads > 0 ? hiddenSize / numHeads : -1),
        number(json, "rms_norm_eps", 1e-6),
        ropeTheta,
        ropeScaling(json),
        integer(json, "max_position_embeddings", 2048),
        qwen2 || attentionBias,
        !qwen2 && attentionBias,
        bool(json, "mlp_bias", false),
        bool(json, "tie_word_embeddings", gemma),
        integer(json, "bos_token_id", -1),
        eosIds(json),
        integer(json, "pad_token_id", -1),
        modelType.equals("qwen3") || modelType.equals("gemma3_text"),
        slidingWindow,
        gemma && numLayers > 0
            ? Optional.of(Gemma.parse(json, modelType, numLayers, ropeTheta))
            : Optional.empty());
  }

  /** The config as a Hugging Face config.json object. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    JsonArray architectures = new JsonArray();
    architectures.add(
        switch (modelType) {
          case "qwen2" -> "Qwen2ForCausalLM";
          case "qwen3" -> "Qwen3ForCausalLM";
          case "phi3" -> "Phi3ForCausalLM";
          case "mistral" -> "MistralForCausalLM";
          case "gemma2" -> "Gemma2ForCausalLM";
          case "gemma3_text" -> "Gemma3ForCausalLM";
          default -> "LlamaForCausalLM";
        });
    json.add("architectures", architectures);
    json.addProperty("model_type", modelType);
    json.addProperty("vocab_size", vocabSize);
    json.addProperty("hidden_size", hiddenSize);
    json.addProperty("intermediate_size", intermediateSize);
    json.addProperty("num_hidden_layers", numLayers);
    json.addProperty("num_attention_heads", numHeads);
    json.addProperty("num_key_value_heads", numKvHeads);
    json.addProperty("head_dim", headDim);
    json.addProperty("hidden_act", gemma.isPresent() ? "gelu_pytorch_tanh" : "silu");
    json.addProperty("rms_norm_eps", rmsNormEps);
    json.addProperty("rope_theta", ropeTheta);
    ropeScaling.ifPresent(scaling -> json.add("rope_scaling", ropeScalingJson(scaling)));
    json.addProperty("max_position_embeddings", maxPositionEmbeddings);
    gemma.ifPresent(g -> g.write(json, modelType.equals("gemma3_text")));
    if (gemma.isPresent()) {
      json.addProperty("sliding_window", slidingWindow);
    } else if (modelType.equals("mistral") || modelType.equals("phi3")) {
      if (slidingWindow > 0) {
        json.addProperty("sliding_window", slidingWindow);
      } else {
        json.add("sliding_window", com.google.gson.JsonNull.INSTANCE);
      }
    }
    if (!modelType.equals("qwen2")) {
      json.addProperty("attention_bias", qkvBias);
    }
    json.addProperty("mlp_bias", mlpBias);
    json.addProperty("tie_word_embeddings", tieWordEmbeddings);
    json.addProperty("bos_token_id", bosTokenId);
    JsonArray eos = new JsonArray();
    eosTokenIds.forEach(eos::add);
    json.add("eos_token_id", eosTokenIds.size() == 1 ? eos.get(0) : eos);
    if (padTokenId >= 0) {
      json.addProperty("pad_token_id", padTokenId);
    }
    json.addProperty("torch_dtype", "float32");
    return json;
  }

  private static JsonObject ropeScalingJson(RopeScaling scaling) {
    JsonObject json = new JsonObject();
    json.addProperty("rope_type", scaling.type());
    json.addProperty("factor", scaling.factor());
    if (scaling.type().equals("llama3")) {
      json.addProperty("low_freq_factor", scaling.lowFreqFactor());
      json.addProperty("high_freq_factor", scaling.highFreqFactor());
      json.addProperty("original_max_position_embeddings", scaling.originalMaxPositionEmbeddings());
    }
    return json;
  }

  private static Optional<RopeScaling> ropeScaling(JsonObject json) {
    if (!json.has("rope_scaling") || json.get("rope_scaling").isJsonNull()) {
      return Optional.empty();
    }
    JsonObject scaling = json.getAsJsonObject("rope_scaling");
    String type = string(scaling, "rope_type", string(scaling, "type", ""));
    if (type.equals("default")) {
      return Optional.empty();
    }
    return Optional.of(
        new RopeScaling(
            type,
            number(scaling, "factor", 1.0),
            number(scaling, "low_freq_factor", 1.0),
            number(scaling, "high_freq_factor", 4.0),
            integer(scaling, "original_max_position_embeddings", 0)));
  }

  private static List<Integer> eosIds(JsonObject json) {
    List<Integer> ids = new ArrayList<>();
    JsonElement eos = json.get("eos_token_id");
    if (eos != null && eos.isJsonArray()) {
      eos.getAsJsonArray().forEach(id -> ids.add(id.getAsInt()));
    } else if (eos != null && !eos.isJsonNull()) {
      ids.add(eos.getAsInt());
    }
    return ids;
  }

  private static void positive(String key, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + " must be > 0 but was " + value);
    }
  }

  private static String string(JsonObject json, String key, String fallback) {
    JsonElement value = json.get(key);
    return value == null || value.isJsonNull() ? fallback : value.getAsString();
  }

  private static int integer(JsonObject json, String key, int fallback) {
    JsonElement value = json.get(key);
    return value == null || value.isJsonNull() ? fallback : value.getAsInt();
  }

  private static double number(JsonObject json, String key, double fallback) {
    JsonElement value = json.get(key);
    return value == null || value.isJsonNull() ? fallback : value.getAsDouble();
  }

  private static boolean bool(JsonObject json, String key, boolean fallback) {
    JsonElement value = json.get(key);
    return value == null || value.isJsonNull() ? fallback : value.getAsBoolean();
  }
}
