package dev.tuneforge.llm.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Optional;

/**
 * The special tokens of a tokenizer: strings from tokenizer_config.json ({@code bos_token} may be a
 * string or an AddedToken object) and their ids; -1 when absent.
 */
public record SpecialTokens(
    String bos, int bosId, String eos, int eosId, String pad, int padId, String unk, int unkId) {

  static SpecialTokens from(JsonObject config, HuggingFaceTokenizer tokenizer) {
    String bos = text(config, "bos_token");
    String eos = text(config, "eos_token");
    String pad = text(config, "pad_token");
    String unk = text(config, "unk_token");
    return new SpecialTokens(
        bos,
        id(tokenizer, bos),
        eos,
        id(tokenizer, eos),
        pad,
        id(tokenizer, pad),
        unk,
        id(tokenizer, unk));
  }

  static Optional<Integer> idOf(HuggingFaceTokenizer tokenizer, String token) {
    if (token == null || token.isEmpty()) {
      return Optional.empty();
    }
    long[] ids = tokenizer.encode(token, false, false).getIds();
    if (ids.length != 1) {
      return Optional.empty();
    }
    String back = tokenizer.decode(ids, false);
    return back.equals(token) ? Optional.of((int) ids[0]) : Optional.empty();
  }

  private static int id(HuggingFaceTokenizer tokenizer, String token) {
    return idOf(tokenizer, token).orElse(-1);
  }

  private static String text(JsonObject config, String key) {
    JsonElement value = config.get(key);
    if (value == null || value.isJsonNull()) {
      return "";
    }
    if (value.isJsonObject()) {
      JsonElement content = value.getAsJsonObject().get("content");
      return content == null ? "" : content.getAsString();
    }
    return value.getAsString();
  }
}
