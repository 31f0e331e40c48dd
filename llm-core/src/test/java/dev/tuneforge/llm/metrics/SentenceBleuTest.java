package dev.tuneforge.llm.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Sentence BLEU equals sacreBLEU's sentence_bleu (exp smoothing, effective order) on the goldens of
 * tools/reference/sentence_bleu.py, run from sacreBLEU's source; corpus BLEU of the same segment
 * stays sacreBLEU's corpus_bleu, which scores any hypothesis under four tokens 0.
 */
class SentenceBleuTest {
  @Test
  void sentenceBleuEqualsSacreBleu() throws Exception {
    int cases = 0;
    boolean shortAnswerScored = false;
    for (JsonElement e :
        JsonParser.parseString(
                Files.readString(Path.of("src/test/resources/reference/sentence-bleu.json")))
            .getAsJsonArray()) {
      JsonObject c = e.getAsJsonObject();
      String hypothesis = c.get("hypothesis").getAsString();
      List<String> references = new ArrayList<>();
      c.getAsJsonArray("references").forEach(r -> references.add(r.getAsString()));
      double sentence = Bleu.sentence(hypothesis, references).score();
      assertEquals(c.get("sentence_bleu").getAsDouble(), sentence, 1e-9, "sentence " + hypothesis);
      List<List<String>> streams = references.stream().map(List::of).toList();
      assertEquals(
          c.get("corpus_bleu").getAsDouble(),
          Bleu.corpus(List.of(hypothesis), streams).score(),
          1e-9,
          "corpus " + hypothesis);
      shortAnswerScored |= sentence > 0 && c.get("corpus_bleu").getAsDouble() == 0;
      cases++;
    }
    assertEquals(12, cases);
    assertTrue(shortAnswerScored, "a short answer scores above 0 only by sentence BLEU");
  }
}
