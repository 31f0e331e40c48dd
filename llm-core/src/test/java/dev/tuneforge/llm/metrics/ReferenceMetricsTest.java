package dev.tuneforge.llm.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ROUGE and BLEU against the vectors the reference packages publish in their own tests
 * (rouge-score's rouge_scorer_test.py, sacreBLEU's test_bleu.py), as collected in
 * shared/notes/formats-and-metrics.md (E1, E2).
 */
class ReferenceMetricsTest {
  static void assertScore(double p, double r, double f, Rouge.Score score) {
    assertEquals(p, score.precision(), 1e-4, "precision");
    assertEquals(r, score.recall(), 1e-4, "recall");
    assertEquals(f, score.fmeasure(), 1e-4, "f");
  }

  @Test
  void rougeScoresThePublishedVectors() {
    assertScore(1, 1.0 / 3, 0.5, Rouge.rougeN("testing one two", "testing", 1));
    assertScore(1, 0.5, 2.0 / 3, Rouge.rougeN("testing one two", "testing one", 2));
    assertScore(1, 2.0 / 3, 0.8, Rouge.rougeL("testing one two", "testing one"));
    assertScore(1, 2.0 / 3, 0.8, Rouge.rougeL("testing one two", "testing two"));
    assertScore(
        0.4, 0.8, 0.5333, Rouge.rougeLsum("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5"));
  }

  @Test
  void rougeScoresTheDerivedVectorsWithoutStemming() {
    String target = "The quick brown fox jumps over the lazy dog";
    String prediction = "The quick brown dog jumps on the log.";
    assertScore(0.75, 0.666667, 0.705882, Rouge.rougeN(target, prediction, 1));
    assertScore(0.285714, 0.25, 0.266667, Rouge.rougeN(target, prediction, 2));
    assertScore(0.625, 0.555556, 0.588235, Rouge.rougeL(target, prediction));
    String t = "The cats are running quickly.\nThey jumped over fences.";
    String p = "A cat runs quickly.\nIt jumps over the fence.";
    assertEquals(0.3333, Rouge.rougeN(t, p, 1).fmeasure(), 1e-4);
    assertEquals(0.2222, Rouge.rougeL(t, p).fmeasure(), 1e-4);
    assertEquals(0.3333, Rouge.rougeLsum(t, p).fmeasure(), 1e-4);
    assertEquals(0.0, Rouge.rougeN("", "anything", 1).fmeasure());
    assertEquals(List.of(), Rouge.tokenize("日本語"), "non-ASCII scripts give no tokens");
  }

  static final List<String> HYPOTHESES =
      List.of("The dog bit the man.", "It wasn't surprising.", "The man had just bitten him.");
  static final List<List<String>> REFERENCES =
      List.of(
          List.of("The dog bit the man.", "It was not unexpected.", "The man bit him first."),
          List.of(
              "The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."));

  @Test
  void bleuScoresThePublishedCorpus() {
    Bleu.Score score = Bleu.corpus(HYPOTHESES, REFERENCES);
    assertEquals(48.530827, score.score(), 1e-5);
    assertArrayEquals(new long[] {14, 7, 5, 3}, score.counts());
    assertArrayEquals(new long[] {17, 14, 11, 8}, score.totals());
    assertEquals(17, score.hypothesisLength());
    assertEquals(18, score.referenceLength());
    assertEquals(0.943, score.brevityPenalty(), 1e-3);
    assertEquals(45.07, Bleu.corpus(HYPOTHESES, REFERENCES.subList(0, 1)).score(), 1e-2);
    assertEquals(
        37.99,
        Bleu.corpus(List.of("the cat sat on the mat"), List.of(List.of("the cat is on the mat")))
            .score(),
        1e-2);
    assertEquals(0.0, Bleu.corpus(List.of("", "", ""), REFERENCES).score());
    assertEquals(
        83.75922397,
        Bleu.score(new long[] {9, 7, 5, 3}, new long[] {10, 8, 6, 4}, 11, 11).score(),
        1e-6);
  }

  @Test
  void theThirteenATokenizerSplitsAsMteval() {
    assertEquals(
        "It wasn't surprising .", String.join(" ", Bleu.tokenize13a("It wasn't surprising.")));
    assertEquals(
        "Hello , world ! 3.14 and 1,000 - 2 ( test ) \" quote \"",
        String.join(" ", Bleu.tokenize13a("Hello, world! 3.14 and 1,000-2 (test) \"quote\"")));
  }

  @Test
  void exactMatchAccuracyAndMacroF1() {
    assertEquals(
        2.0 / 3, TextMatch.exactMatch(List.of("a", " b ", "c"), List.of("a", "b", "d")), 1e-12);
    // labels: cat (tp 1, fp 1, fn 1) F1 0.5; dog (tp 1, fp 0, fn 1) 2/3; bird (tp 0) 0 -> mean 7/18
    TextMatch.Classification c =
        TextMatch.classification(
            List.of("cat", "cat", "dog", "bird"), List.of("cat", "dog", "dog", "cat"));
    assertEquals(0.5, c.accuracy(), 1e-12);
    assertEquals((0.5 + 2.0 / 3 + 0) / 3, c.macroF1(), 1e-12);
  }
}
