package dev.tuneforge.data.prepare;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.tuneforge.llm.data.ChatMessage;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.data.PreferenceDataset;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.preference.PreferencePair;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;

/**
 * Token count of a canonical record exactly as training will see it: through llm-core's dataset
 * readers with the base model's tokenizer and chat template (EOS included; for a preference pair,
 * the prompt plus the longer response).
 *
 * <p>A record far past the limit is not tokenized whole: the native tokenizer takes about 160 bytes
 * of memory per character it encodes (a 5 MB record cost 800 MB), and glibc keeps what it took.
 * {@link #of(JsonObject, DatasetKind, int)} first counts the record with every text cut to {@value
 * #HEAD_CHARS_PER_TOKEN} characters per token of the limit; only dense text, whose head does not
 * decide, is counted whole, and not even that when its length alone proves it over.
 */
public final class TokenLengths {
  private static final int UNBOUNDED = Integer.MAX_VALUE / 2;

  /** Characters of each text counted per token of the limit before a record is counted whole. */
  static final int HEAD_CHARS_PER_TOKEN = 8;

  /**
   * Tokens a head must exceed the limit by to prove the whole over it: a tokenizer without a
   * pre-tokenizer (Llama 2's) may merge across the cut differently, by a token or two.
   */
  static final int MARGIN = 64;

  /**
   * Normalisation can shorten a text (NFC composes Hangul jamo three into one), so the proof by
   * length allows for it.
   */
  private static final int NORMALISATION_SHRINK = 3;

  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final java.util.Map<String, String> special;
  private final SftDataset.Options sft;
  private final PreferenceDataset.Options preference;

  public TokenLengths(Tokenizer tokenizer, ChatTemplate template) {
    this.tokenizer = tokenizer;
    this.template = template;
    this.special =
        java.util.Map.of(
            "bos_token", tokenizer.special().bos(), "eos_token", tokenizer.special().eos());
    this.sft = new SftDataset.Options(UNBOUNDED, true, false, template);
    this.preference = new PreferenceDataset.Options(UNBOUNDED - 1, UNBOUNDED, template);
  }

  /**
   * The record's token count when it is at most {@code limit}; past the limit, a count that exceeds
   * it (exact, or a lower bound from a head of the record or from its length).
   */
  public Count of(JsonObject canonical, DatasetKind kind, int limit) {
    long chars = chars(canonical);
    long headChars = (long) HEAD_CHARS_PER_TOKEN * (limit + MARGIN);
    if (chars <= headChars) {
      return new Count(of(canonical, kind), true);
    }
    int head = of((JsonObject) cut(canonical, (int) Math.min(headChars, Integer.MAX_VALUE)), kind);
    if (head > limit + MARGIN) {
      return new Count(head - MARGIN, false);
    }
    long proven = chars / ((long) NORMALISATION_SHRINK * tokenizer.longestTokenChars());
    if (proven > limit) {
      return new Count((int) Math.min(proven, UNBOUNDED), false);
    }
    return new Count(of(canonical, kind), true);
  }

  /** A token count: exact, or a lower bound ("at least"). */
  public record Count(int tokens, boolean exact) {
    @Override
    public String toString() {
      return (exact ? "" : "at least ") + tokens + " tokens";
    }
  }

  /** The exact token count of a record, however long. */
  public int of(JsonObject canonical, DatasetKind kind) {
    if (kind == DatasetKind.MESSAGES) {
      // One render of the whole conversation: the tokens SftDataset trains on (the chat template
      // closes turns itself, so nothing is appended).
      List<ChatMessage> messages =
          SftDataset.messages(canonical.get("messages"), "messages", 0); // as training reads them
      List<?> tools = SftDataset.tools(canonical, 0);
      return tokenizer.encodePlain(template.render(messages, tools, false, special)).length;
    }
    List<String> line = List.of(canonical.toString());
    return switch (kind) {
      case PREFERENCE -> {
        PreferencePair pair = PreferenceDataset.parse(line, tokenizer, preference).get(0);
        yield pair.prompt().length + Math.max(pair.chosen().length, pair.rejected().length);
      }
      case PROMPT_ONLY -> PreferenceDataset.parsePrompts(line, tokenizer, preference).get(0).length;
      default -> SftDataset.parse(line, tokenizer, sft).examples().get(0).ids().length;
    };
  }

  /** Characters in the record's texts. */
  private static long chars(JsonElement element) {
    if (element.isJsonPrimitive()) {
      return element.getAsJsonPrimitive().isString() ? element.getAsString().length() : 0;
    }
    long chars = 0;
    if (element.isJsonArray()) {
      for (JsonElement item : element.getAsJsonArray()) {
        chars += chars(item);
      }
    } else if (element.isJsonObject()) {
      for (Map.Entry<String, JsonElement> field : element.getAsJsonObject().entrySet()) {
        chars += chars(field.getValue());
      }
    }
    return chars;
  }

  /** A copy of the record with every text longer than {@code max} cut before a space near it. */
  private static JsonElement cut(JsonElement element, int max) {
    if (element.isJsonPrimitive()) {
      if (!element.getAsJsonPrimitive().isString() || element.getAsString().length() <= max) {
        return element;
      }
      String text = element.getAsString();
      int end = max;
      int space = text.lastIndexOf(' ', max);
      if (space > max / 2) {
        end = space;
      } else if (Character.isHighSurrogate(text.charAt(end - 1))) {
        end--;
      }
      return new JsonPrimitive(text.substring(0, end));
    }
    if (element.isJsonArray()) {
      JsonArray copy = new JsonArray();
      for (JsonElement item : element.getAsJsonArray()) {
        copy.add(cut(item, max));
      }
      return copy;
    }
    if (element.isJsonObject()) {
      JsonObject copy = new JsonObject();
      for (Map.Entry<String, JsonElement> field : element.getAsJsonObject().entrySet()) {
        copy.add(field.getKey(), cut(field.getValue(), max));
      }
      return copy;
    }
    return element;
  }
}
