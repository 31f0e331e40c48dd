package dev.tuneforge.llm.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.model.LlamaConfig;
import dev.tuneforge.llm.model.WeightNames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Writes a small random Llama in Hugging Face layout, reproducible from a seed: config.json,
 * model.safetensors (weights ~ N(0, 0.02), norms 1, as transformers initialises), a byte-level BPE
 * tokenizer.json (256 byte tokens whose id is the byte value, a few English merges, special
 * tokens), tokenizer_config.json with a ChatML chat template, and generation_config.json. Tests and
 * demos use it because no model can be downloaded here.
 */
public final class TinyLlama {
  /** Merges after the 256 byte tokens, in GPT-2's byte-to-unicode spelling (Ġ is a space). */
  static final List<String> MERGES =
      List.of("Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r", "Ġ s", "a t", "e n", "o r");

  static final List<String> SPECIALS =
      List.of("<s>", "</s>", "<pad>", "<|im_start|>", "<|im_end|>");

  /** ChatML, as Qwen and many fine-tunes use it. */
  public static final String CHATML_TEMPLATE =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
          + " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{"
          + " '<|im_start|>assistant\\n' }}{% endif %}";

  /** Shape of a tiny model. */
  public record Size(
      int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize) {
    public static final Size DEFAULT = new Size(64, 2, 4, 2, 176);
  }

  private TinyLlama() {}

  /** The vocabulary size: bytes, merges and specials. */
  public static int vocabSize() {
    return 256 + MERGES.size() + SPECIALS.size();
  }

  /** The id of a special token, e.g. {@code </s>}. */
  public static int specialId(String token) {
    int index = SPECIALS.indexOf(token);
    if (index < 0) {
      throw new IllegalArgumentException(token + " is not a special token of the tiny tokenizer");
    }
    return 256 + MERGES.size() + index;
  }

  /** The config of a tiny model of {@code size}. */
  public static LlamaConfig config(Size size) {
    return new LlamaConfig(
        "llama",
        vocabSize(),
        size.hiddenSize(),
        size.intermediateSize(),
        size.numLayers(),
        size.numHeads(),
        size.numKvHeads(),
        size.hiddenSize() / size.numHeads(),
        1e-5,
        10000.0,
        Optional.empty(),
        512,
        false,
        false,
        false,
        true,
        specialId("<s>"),
        List.of(specialId("</s>"), specialId("<|im_end|>")),
        specialId("<pad>"),
        false,
        0,
        java.util.Optional.empty());
  }

  /** Writes a model of {@code size} with weights drawn from {@code seed} into {@code dir}. */
  public static void write(Path dir, long seed, Size size) {
    LlamaConfig config = config(size);
    try (NDManager manager = Torch.engine().newBaseManager()) {
      Map<String, NDArray> weights = weights(manager, config, new Random(seed));
      Files.createDirectories(dir);
      HfCheckpoint.save(dir, weights, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES);
      writeJson(dir.resolve("config.json"), config.toJson());
      writeTokenizer(dir);
      writeJson(dir.resolve("generation_config.json"), generationConfig(config));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a tiny model to " + dir, e);
    }
  }

  /**
   * Writes only the tokenizer files (tokenizer.json, tokenizer_config.json with the ChatML
   * template): what a service that formats data needs, without libtorch.
   */
  public static void writeTokenizer(Path dir) {
    try {
      Files.createDirectories(dir);
      writeJson(dir.resolve("tokenizer.json"), tokenizerJson());
      writeJson(dir.resolve("tokenizer_config.json"), tokenizerConfig());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the tiny tokenizer to " + dir, e);
    }
  }

  private static Map<String, NDArray> weights(
      NDManager manager, LlamaConfig config, Random random) {
    int hidden = config.hiddenSize();
    int q = config.numHeads() * config.headDim();
    int kv = config.numKvHeads() * config.headDim();
    int inter = config.intermediateSize();
    Map<String, NDArray> weights = new LinkedHashMap<>();
    weights.put(WeightNames.EMBED_TOKENS, normal(manager, random, config.vocabSize(), hidden));
    for (int i = 0; i < config.numLayers(); i++) {
      weights.put(WeightNames.weight(i, WeightNames.Q_PROJ), normal(manager, random, q, hidden));
      weights.put(WeightNames.weight(i, WeightNames.K_PROJ), normal(manager, random, kv, hidden));
      weights.put(WeightNames.weight(i, WeightNames.V_PROJ), normal(manager, random, kv, hidden));
      weights.put(WeightNames.weight(i, WeightNames.O_PROJ), normal(manager, random, hidden, q));
      weights.put(
          WeightNames.weight(i, WeightNames.GATE_PROJ), normal(manager, random, inter, hidden));
      weights.put(
          WeightNames.weight(i, WeightNames.UP_PROJ), normal(manager, random, inter, hidden));
      weights.put(
          WeightNames.weight(i, WeightNames.DOWN_PROJ), normal(manager, random, hidden, inter));
      weights.put(WeightNames.weight(i, WeightNames.INPUT_NORM), manager.ones(new Shape(hidden)));
      weights.put(
          WeightNames.weight(i, WeightNames.POST_ATTENTION_NORM), manager.ones(new Shape(hidden)));
    }
    weights.put(WeightNames.FINAL_NORM, manager.ones(new Shape(hidden)));
    return weights;
  }

  private static NDArray normal(NDManager manager, Random random, int rows, int cols) {
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * 0.02);
    }
    return manager.create(values, new Shape(rows, cols));
  }

  static JsonObject tokenizerJson() {
    JsonObject vocab = new JsonObject();
    for (int b = 0; b < 256; b++) {
      vocab.addProperty(ByteLevel.tokenOf(b), b);
    }
    JsonArray merges = new JsonArray();
    for (int i = 0; i < MERGES.size(); i++) {
      merges.add(MERGES.get(i));
      vocab.addProperty(MERGES.get(i).replace(" ", ""), 256 + i);
    }
    JsonArray added = new JsonArray();
    for (String special : SPECIALS) {
      JsonObject token = new JsonObject();
      token.addProperty("id", specialId(special));
      token.addProperty("content", special);
      token.addProperty("single_word", false);
      token.addProperty("lstrip", false);
      token.addProperty("rstrip", false);
      token.addProperty("normalized", false);
      token.addProperty("special", true);
      added.add(token);
    }
    JsonObject model = new JsonObject();
    model.addProperty("type", "BPE");
    model.add("dropout", null);
    model.add("unk_token", null);
    model.add("continuing_subword_prefix", null);
    model.add("end_of_word_suffix", null);
    model.addProperty("fuse_unk", false);
    model.addProperty("byte_fallback", false);
    model.addProperty("ignore_merges", false);
    model.add("vocab", vocab);
    model.add("merges", merges);
    JsonObject json = new JsonObject();
    json.addProperty("version", "1.0");
    json.add("truncation", null);
    json.add("padding", null);
    json.add("added_tokens", added);
    json.add("normalizer", null);
    json.add("pre_tokenizer", byteLevel(false));
    json.add("post_processor", byteLevel(false));
    json.add("decoder", byteLevel(false));
    json.add("model", model);
    return json;
  }

  private static JsonObject byteLevel(boolean addPrefixSpace) {
    JsonObject json = new JsonObject();
    json.addProperty("type", "ByteLevel");
    json.addProperty("add_prefix_space", addPrefixSpace);
    json.addProperty("trim_offsets", false);
    json.addProperty("use_regex", true);
    return json;
  }

  private static JsonObject tokenizerConfig() {
    JsonObject json = new JsonObject();
    json.addProperty("add_bos_token", true);
    json.addProperty("add_eos_token", false);
    json.addProperty("bos_token", "<s>");
    json.addProperty("eos_token", "</s>");
    json.addProperty("pad_token", "<pad>");
    json.add("unk_token", null);
    json.addProperty("model_max_length", 512);
    json.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
    json.addProperty("chat_template", CHATML_TEMPLATE);
    return json;
  }

  private static JsonObject generationConfig(LlamaConfig config) {
    JsonObject json = new JsonObject();
    json.addProperty("bos_token_id", config.bosTokenId());
    JsonArray eos = new JsonArray();
    config.eosTokenIds().forEach(eos::add);
    json.add("eos_token_id", eos);
    json.addProperty("pad_token_id", config.padTokenId());
    return json;
  }

  private static void writeJson(Path file, JsonObject json) throws IOException {
    Files.writeString(
        file,
        new GsonBuilder()
            .setPrettyPrinting()
            .serializeNulls()
            .disableHtmlEscaping()
            .create()
            .toJson(json));
  }
}
