package dev.tuneforge.llm.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The stemmer against NLTK's PorterStemmer (the default mode, what rouge-score uses) on 5,773 words
 * (tools/reference/porter_reference.py), and ROUGE with stemming against the vectors of
 * shared/notes/formats-and-metrics.md (E1).
 */
class PorterStemmerTest {
  @Test
  void stemsAsNltkDoes() throws IOException {
    List<String> wrong = new ArrayList<>();
    int words = 0;
    try (InputStream in = getClass().getResourceAsStream("/reference/porter.tsv")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        String[] pair = line.split("\t");
        words++;
        String stem = PorterStemmer.stem(pair[0]);
        if (!stem.equals(pair[1])) {
          wrong.add(pair[0] + " -> " + stem + ", NLTK " + pair[1]);
        }
      }
    }
    assertTrue(words > 5000, "words: " + words);
    assertEquals(List.of(), wrong);
  }

  @Test
  void rougeWithStemmingScoresTheDerivedVectors() {
    String t = "The cats are running quickly.\nThey jumped over fences.";
    String p = "A cat runs quickly.\nIt jumps over the fence.";
    assertEquals(0.7778, Rouge.rougeN(t, p, 1, true).fmeasure(), 1e-4);
    assertEquals(0.25, Rouge.rougeN(t, p, 2, true).fmeasure(), 1e-4);
    assertEquals(0.6667, Rouge.rougeL(t, p, true).fmeasure(), 1e-4);
    assertEquals(0.7778, Rouge.rougeLsum(t, p, true).fmeasure(), 1e-4);
    String target = "The quick brown fox jumps over the lazy dog";
    String prediction = "The quick brown dog jumps on the log.";
    assertEquals(0.705882, Rouge.rougeN(target, prediction, 1, true).fmeasure(), 1e-6);
    assertEquals(0.266667, Rouge.rougeN(target, prediction, 2, true).fmeasure(), 1e-6);
    assertEquals(0.588235, Rouge.rougeL(target, prediction, true).fmeasure(), 1e-6);
    assertEquals(
        List.of("the", "cat", "are", "run", "quickli"),
        Rouge.tokenize("The cats are running quickly.", true));
  }
}
