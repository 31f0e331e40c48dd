package dev.tuneforge.llm.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.engine.Torch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A model's tokenizer: {@code tokenizer.json} run by the Hugging Face tokenizers library (through
 * DJL, offline) plus the special tokens and {@code add_bos_token} / {@code add_eos_token} of {@code
 * tokenizer_config.json}. When the config sets neither flag, the post-processor in tokenizer.json
 * decides, as in transformers.
 */
public final class Tokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final SpecialTokens special;
  private final Optional<Boolean> addBos;
  private final Optional<Boolean> addEos;
  private final JsonObject config;
  private final Path file;
  private volatile int longestToken = -1;

  private Tokenizer(
      HuggingFaceTokenizer tokenizer,
      SpecialTokens special,
      Optional<Boolean> addBos,
      Optional<Boolean> addEos,
      JsonObject config,
      Path file) {
    this.tokenizer = tokenizer;
    this.special = special;
    this.addBos = addBos;
    this.addEos = addEos;
    this.config = config;
    this.file = file;
  }

  /** Loads {@code dir/tokenizer.json} and, if present, {@code dir/tokenizer_config.json}. */
  public static Tokenizer load(Path dir) {
    Path file = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          dir
              + " has no tokenizer.json; TuneForge reads fast (Rust) tokenizers only, not"
              + " sentencepiece .model files. Save one in Python with"
              + " AutoTokenizer.from_pretrained(dir).save_pretrained(out)");
    }
    Torch.goOfflineForTokenizers();
    JsonObject config = readConfig(dir.resolve("tokenizer_config.json"));
    Optional<Boolean> addBos = flag(config, "add_bos_token");
    Optional<Boolean> addEos = flag(config, "add_eos_token");
    boolean explicit = addBos.isPresent() || addEos.isPresent();
    try {
      HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.newInstance(
              file,
              Map.of(
                  "addSpecialTokens", Boolean.toString(!explicit),
                  "maxLength", "1000000",
                  "truncation", "false",
                  "padding", "false"));
      return new Tokenizer(
          tokenizer, SpecialTokens.from(config, tokenizer), addBos, addEos, config, file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Token ids of {@code text}, with BOS/EOS as the tokenizer's config asks. */
  public int[] encode(String text) {
    int[] core = toInts(tokenizer.encode(text).getIds());
    int prefix = addBos.orElse(false) && special.bosId() >= 0 ? 1 : 0;
    int suffix = addEos.orElse(false) && special.eosId() >= 0 ? 1 : 0;
    int[] ids = new int[core.length + prefix + suffix];
    if (prefix == 1) {
      ids[0] = special.bosId();
    }
    System.arraycopy(core, 0, ids, prefix, core.length);
    if (suffix == 1) {
      ids[ids.length - 1] = special.eosId();
    }
    return ids;
  }

  /** Token ids of {@code text} with no special tokens added. */
  public int[] encodePlain(String text) {
    // Ids only: one native encode and one read, instead of the seven reads (tokens, offsets,
    // masks, ...) that building a full Encoding costs; ~3x faster on short texts.
    long encoding = TokenizersLibrary.LIB.encode(tokenizer.getHandle(), text, false);
    try {
      return toInts(TokenizersLibrary.LIB.getTokenIds(encoding));
    } finally {
      TokenizersLibrary.LIB.deleteEncoding(encoding);
    }
  }

  /** The encoding of {@code text} with no special tokens added, with character offsets. */
  public Encoding encodeWithOffsets(String text) {
    return tokenizer.encode(text, false, false);
  }

  /** Text of {@code ids}; special tokens are kept unless {@code skipSpecial}. */
  public String decode(int[] ids, boolean skipSpecial) {
    long[] longs = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      longs[i] = ids[i];
    }
    return tokenizer.decode(longs, skipSpecial);
  }

  /** The token string of one id, as in the vocabulary. */
  public String token(int id) {
    return tokenizer.decode(new long[] {id}, false);
  }

  /** The id of a token string, if the vocabulary has it. */
  public Optional<Integer> idOf(String token) {
    return SpecialTokens.idOf(tokenizer, token);
  }

  /**
   * The longest vocabulary entry, in characters as {@code tokenizer.json} spells it (byte-level
   * entries one character per byte, sentencepiece's {@code ▁} one per space, byte fallbacks {@code
   * <0x0A>} six for one byte), added tokens included. No token stands for more characters of
   * normalised text than this, so a text of n characters has at least n / this many tokens. Read
   * from the file once, on first use.
   */
  public int longestTokenChars() {
    int longest = longestToken;
    if (longest < 0) {
      longest = 1;
      try (java.io.Reader reader = Files.newBufferedReader(file)) {
        JsonObject json = JsonParser.parseReader(reader).getAsJsonObject();
        JsonElement model = json.get("model");
        JsonElement vocab =
            model != null && model.isJsonObject() ? model.getAsJsonObject().get("vocab") : null;
        if (vocab != null && vocab.isJsonObject()) {
          for (String entry : vocab.getAsJsonObject().keySet()) {
            longest = Math.max(longest, entry.length());
          }
        } else if (vocab != null && vocab.isJsonArray()) { // Unigram: [piece, score] pairs
          for (JsonElement entry : vocab.getAsJsonArray()) {
            longest = Math.max(longest, entry.getAsJsonArray().get(0).getAsString().length());
          }
        }
        JsonElement added = json.get("added_tokens");
        if (added != null && added.isJsonArray()) {
          for (JsonElement token : added.getAsJsonArray()) {
            longest =
                Math.max(longest, token.getAsJsonObject().get("content").getAsString().length());
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
      longestToken = longest;
    }
    return longest;
  }

  public SpecialTokens special() {
    return special;
  }

  /** The raw tokenizer_config.json (empty when the file is absent). */
  public JsonObject config() {
    return config;
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  private static JsonObject readConfig(Path file) {
    if (!Files.isRegularFile(file)) {
      return new JsonObject();
    }
    try {
      return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(file + " is not a JSON object: " + e.getMessage(), e);
    }
  }

  private static Optional<Boolean> flag(JsonObject config, String key) {
    JsonElement value = config.get(key);
    return value == null || value.isJsonNull()
        ? Optional.empty()
        : Optional.of(value.getAsBoolean());
  }

  private static int[] toInts(long[] ids) {
    int[] ints = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ints[i] = Math.toIntExact(ids[i]);
    }
    return ints;
  }
}
