package dev.tuneforge.data.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenLengthsTest {
  @TempDir static Path dir;
  static Tokenizer tokenizer;
  static TokenLengths lengths;

  @BeforeAll
  static void load() {
    TinyLlama.writeTokenizer(dir);
    tokenizer = Tokenizer.load(dir);
    lengths = new TokenLengths(tokenizer, ChatTemplate.builtIn("chatml"));
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  static JsonObject chat(String user, String assistant) {
    JsonArray messages = new JsonArray();
    for (String[] turn : new String[][] {{"user", user}, {"assistant", assistant}}) {
      JsonObject message = new JsonObject();
      message.addProperty("role", turn[0]);
      message.addProperty("content", turn[1]);
      messages.add(message);
    }
    JsonObject record = new JsonObject();
    record.add("messages", messages);
    return record;
  }

  static JsonObject completion(String prompt, String completion) {
    JsonObject record = new JsonObject();
    record.addProperty("prompt", prompt);
    record.addProperty("completion", completion);
    return record;
  }

  /** Words from 1 to 12 characters, numbers and punctuation: a density like prose's. */
  static String prose(Random random, int chars) {
    StringBuilder text = new StringBuilder();
    while (text.length() < chars) {
      int kind = random.nextInt(10);
      if (kind == 0) {
        text.append(random.nextInt(100_000));
      } else if (kind == 1) {
        text.append(",.;:!?".charAt(random.nextInt(6)));
      } else {
        int length = 1 + random.nextInt(12);
        for (int i = 0; i < length; i++) {
          text.append((char) ('a' + random.nextInt(26)));
        }
      }
      text.append(random.nextInt(20) == 0 ? "\n" : " ");
    }
    return text.toString();
  }

  @Test
  void aCountWithALimitDecidesAsTheExactCountDoesAndIsExactUpToIt() {
    Random random = new Random(7);
    int limit = 48;
    int head = TokenLengths.HEAD_CHARS_PER_TOKEN * (limit + TokenLengths.MARGIN);
    int over = 0;
    int cut = 0;
    for (int trial = 0; trial < 300; trial++) {
      // Lengths on both sides of the limit and of the head's length, prose and dense text.
      int chars =
          trial % 3 == 0
              ? random.nextInt(150)
              : trial % 3 == 1 ? head - 100 + random.nextInt(200) : head + random.nextInt(4 * head);
      String text = trial % 5 == 4 ? "ab".repeat(chars / 2 + 1) : prose(random, Math.max(1, chars));
      for (DatasetKind kind :
          new DatasetKind[] {DatasetKind.MESSAGES, DatasetKind.PROMPT_COMPLETION}) {
        JsonObject record =
            kind == DatasetKind.MESSAGES ? chat(text, "ok") : completion("Q: ", text);
        int exact = lengths.of(record, kind);
        TokenLengths.Count count = lengths.of(record, kind, limit);
        assertEquals(exact > limit, count.tokens() > limit, "decision for " + chars + " chars");
        if (count.exact()) {
          assertEquals(exact, count.tokens());
        } else {
          cut++;
          assertTrue(count.tokens() <= exact, count + " is more than the exact " + exact);
        }
        over += exact > limit ? 1 : 0;
      }
    }
    assertTrue(cut > 100, "records decided without counting them whole: " + cut);
    assertTrue(over > 100 && over < 580, "records over the limit: " + over);
  }

  @Test
  void aFiveMegabyteRecordIsNotTokenizedWhole() {
    String text = prose(new Random(3), 5_000_000);
    TokenLengths.Count count = lengths.of(chat(text, "ok"), DatasetKind.MESSAGES, 2048);
    assertFalse(count.exact(), count.toString());
    assertTrue(count.tokens() > 2048, count.toString());
    assertTrue(count.toString().startsWith("at least "), count.toString());
  }

  @Test
  void denseTextIsProvedOverByItsLength() {
    // Five million letters: the head holds few tokens, but no token is longer than the longest
    // vocabulary entry, so the length alone proves the record over the limit.
    String text = "a".repeat(5_000_000);
    TokenLengths.Count count =
        lengths.of(completion("Q: ", text), DatasetKind.PROMPT_COMPLETION, 2048);
    assertFalse(count.exact(), count.toString());
    assertTrue(count.tokens() > 2048, count.toString());
    int longest = 0;
    for (int id = 0; id < 300; id++) {
      longest = Math.max(longest, tokenizer.token(id).length());
    }
    assertTrue(tokenizer.longestTokenChars() >= longest);
  }
}
