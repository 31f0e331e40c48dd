package dev.tuneforge.data.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The corpus of malformed datasets ({@code malformed/cases.json}): each is refused, nothing is
 * produced, and the first problem is exactly the expected line-precise message.
 */
class MalformedCorpusTest {
  @TempDir static Path dir;
  static Tokenizer tokenizer;
  static DatasetPreparer preparer;

  @BeforeAll
  static void load() {
    TinyLlama.writeTokenizer(dir);
    tokenizer = Tokenizer.load(dir);
    preparer = new DatasetPreparer(new TokenLengths(tokenizer, ChatTemplate.builtIn("chatml")));
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  static List<JsonObject> cases() throws IOException {
    try (InputStream in = MalformedCorpusTest.class.getResourceAsStream("/malformed/cases.json")) {
      JsonObject corpus =
          JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8))
              .getAsJsonObject();
      List<JsonObject> cases = new ArrayList<>();
      corpus.getAsJsonArray("cases").forEach(c -> cases.add(c.getAsJsonObject()));
      return cases;
    }
  }

  static Stream<JsonObject> corpus() throws IOException {
    return cases().stream();
  }

  @Test
  void theCorpusHasAtLeastFiftyCases() throws IOException {
    assertTrue(cases().size() >= 50, cases().size() + " cases");
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("corpus")
  void eachMalformedDatasetGetsItsMessage(JsonObject c) {
    byte[] content =
        c.has("contentBase64")
            ? Base64.getDecoder().decode(c.get("contentBase64").getAsString())
            : c.get("content").getAsString().getBytes(StandardCharsets.UTF_8);
    PreparationOptions options = PreparationOptions.defaults(intOr(c, "maxSeqLength", 512), 1);
    if (c.has("kind")) {
      options = options.withKind(DatasetKind.valueOf(c.get("kind").getAsString()));
    }
    options =
        options.withPolicies(
            PreparationOptions.Policy.valueOf(stringOr(c, "invalidRecords", "FAIL")),
            PreparationOptions.Policy.valueOf(stringOr(c, "overLength", "DROP")));
    if (c.has("stratifyBy")) {
      options = options.withSplits(0.1, 0.1, c.get("stratifyBy").getAsString());
    }
    DatasetPreparer.Outcome outcome =
        preparer.prepare(
            new DatasetPreparer.Input("training_file", c.get("file").getAsString(), content),
            null,
            options);
    DatasetPreparer.Rejected rejected = assertInstanceOf(DatasetPreparer.Rejected.class, outcome);
    String first = rejected.problems().get(0).toString();
    if (c.has("expected")) {
      assertEquals(c.get("expected").getAsString(), first);
    } else {
      String pattern = c.get("expectedRegex").getAsString();
      assertTrue(first.matches(pattern), first + " does not match " + pattern);
    }
  }

  private static int intOr(JsonObject c, String field, int fallback) {
    return c.has(field) ? c.get(field).getAsInt() : fallback;
  }

  private static String stringOr(JsonObject c, String field, String fallback) {
    return c.has(field) ? c.get(field).getAsString() : fallback;
  }
}
