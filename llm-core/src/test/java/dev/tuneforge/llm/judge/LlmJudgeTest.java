package dev.tuneforge.llm.judge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The LLM-as-judge: its verdict parser against malformed replies, the swapped second question that
 * catches position bias, placeholders filled in one pass, and a local judging model end to end.
 */
class LlmJudgeTest {
  @TempDir static Path dir;
  static Tokenizer tokenizer;

  @BeforeAll
  static void writeModel() throws Exception {
    TinyLlama.write(dir, 3, new TinyLlama.Size(32, 1, 2, 1, 64));
    tokenizer = Tokenizer.load(dir);
  }

  @ParameterizedTest(name = "\"{0}\" -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "1|1",
        "0|0",
        "'  0  '|0",
        "Answer: 1.|1",
        "[[0]]|0",
        "The better answer is 1, clearly 1.|1",
        "|-1",
        "2|-1",
        "10|-1",
        "01|-1",
        "0 or 1|-1",
        "Answer 1 beats answer 0|-1",
        "one|-1",
        "0.5|-1",
        "v1|-1",
        "1st|-1",
        "I cannot decide.|-1"
      })
  void verdictsAreParsedAndMalformedRepliesHaveNone(String reply, int verdict) {
    assertEquals(verdict, LlmJudge.parse(reply == null ? "" : reply));
  }

  @Test
  void verdictsSurviveLineBreaksAndMissingReplies() {
    assertEquals(1, LlmJudge.parse("\n\n1\n"));
    assertEquals(0, LlmJudge.parse("Verdict:\n0"));
    assertEquals(Judge.NO_VERDICT, LlmJudge.parse(null));
  }

  private static List<int[]> texts(String... values) {
    List<int[]> ids = new ArrayList<>();
    for (String v : values) {
      ids.add(tokenizer.encodePlain(v));
    }
    return ids;
  }

  /** A judging model that answers by content: the answer with more letters A wins. */
  private static String byContent(String ask) {
    String first = between(ask, "## Answer 0\n", "\n\n## Answer 1");
    String second = between(ask, "## Answer 1\n", "\n\nReply");
    return count(first) >= count(second) ? "0" : "1";
  }

  private static String between(String text, String from, String to) {
    int start = text.indexOf(from) + from.length();
    return text.substring(start, text.indexOf(to, start));
  }

  private static long count(String text) {
    return text.chars().filter(c -> c == 'A').count();
  }

  @Test
  void aConsistentJudgeGivesVerdictsInBothOrders() {
    List<String> seen = new ArrayList<>();
    LlmJudge judge =
        new LlmJudge(
            tokenizer,
            (asks, seed) -> {
              seen.addAll(asks);
              return asks.stream().map(LlmJudgeTest::byContent).toList();
            });
    Verdicts verdicts = judge.judge(texts("Q1", "Q2"), texts("AAA", "BBB"), texts("BBB", "AAB"));
    assertArrayEquals(new int[] {0, 1}, verdicts.better());
    assertEquals(0, verdicts.unparseable());
    assertEquals(0, verdicts.inconsistent());
    assertEquals(4, seen.size(), "each pair asked twice");
    assertTrue(seen.get(2).indexOf("BBB") < seen.get(2).indexOf("AAA"), "the second ask swaps");
    assertEquals(0.5, verdicts.winRate());
  }

  @Test
  void aPositionBiasedJudgeGivesNoVerdictAndIsCounted() {
    LlmJudge judge = new LlmJudge(tokenizer, (asks, seed) -> asks.stream().map(a -> "0").toList());
    Verdicts verdicts = judge.judge(texts("Q1", "Q2"), texts("AAA", "B"), texts("B", "AAA"));
    assertArrayEquals(new int[] {Judge.NO_VERDICT, Judge.NO_VERDICT}, verdicts.better());
    assertEquals(2, verdicts.inconsistent());
    assertEquals(0, verdicts.decided());
    assertTrue(Double.isNaN(verdicts.winRate()));
    LlmJudge once =
        new LlmJudge(
            tokenizer,
            (asks, seed) -> asks.stream().map(a -> "0").toList(),
            LlmJudge.DEFAULT_TEMPLATE,
            false);
    assertArrayEquals(
        new int[] {0, 0},
        once.judge(texts("Q1", "Q2"), texts("A", "B"), texts("B", "A")).better(),
        "asked once, the bias goes unseen");
  }

  @Test
  void unparseableRepliesAreCounted() {
    List<String> replies = List.of("0", "maybe", "1", "2");
    LlmJudge judge = new LlmJudge(tokenizer, (asks, seed) -> replies);
    Verdicts verdicts = judge.judge(texts("Q1", "Q2"), texts("A", "B"), texts("B", "A"));
    // prompt 0: "0" then swapped "1" agree; prompt 1: "maybe" and "2" hold none
    assertArrayEquals(new int[] {0, Judge.NO_VERDICT}, verdicts.better());
    assertEquals(1, verdicts.unparseable());
    assertThrows(
        IllegalStateException.class,
        () ->
            new LlmJudge(tokenizer, (asks, seed) -> List.of("0"))
                .judge(texts("Q"), texts("A"), texts("B")));
  }

  @Test
  void placeholdersAreFilledOnceAndRequired() {
    LlmJudge judge =
        new LlmJudge(tokenizer, (asks, seed) -> asks, "P={prompt} A={first} B={second}", true);
    assertEquals("P={second} A=$1 B=\\x", judge.render("{second}", "$1", "\\x"));
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class,
            () -> new LlmJudge(tokenizer, (asks, seed) -> asks, "{prompt} {first}", true));
    assertTrue(missing.getMessage().contains("{second}"), missing.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            dev.tuneforge.llm.generate.PromptTemplate.of("{a} {b}", "a", "b")
                .fill(java.util.Map.of("a", "x")));
  }

  @Test
  void aLocalJudgingModelAnswersEveryAsk() {
    try (LlamaModel model = LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE)) {
      dev.tuneforge.llm.generate.TextGenerator local =
          dev.tuneforge.llm.generate.TextGenerator.local(model, tokenizer, 4, 0, 1.0);
      List<String> replies = local.complete(List.of("which is better?", "0 or 1"), 0);
      assertEquals(2, replies.size());
      Verdicts verdicts = new LlmJudge(tokenizer, local).judge(texts("Q1"), texts("A"), texts("B"));
      // a random model rarely names an answer; whatever it says is parsed and counted
      assertEquals(
          1, verdicts.decided() + verdicts.unparseable() + verdicts.inconsistent(), "" + verdicts);
    }
  }
}
