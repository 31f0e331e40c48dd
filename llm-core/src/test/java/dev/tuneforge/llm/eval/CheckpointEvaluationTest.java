package dev.tuneforge.llm.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every dataset kind the trainer accepts is evaluated: instruction records are prompted as training
 * rendered them and scored against their output, and the report lists the metrics it computed and
 * names each one left out with the reason.
 */
class CheckpointEvaluationTest {
  @TempDir Path dir;

  @Test
  @SuppressWarnings("unchecked")
  void instructionRecordsGetGenerationMetricsAndLeftOutMetricsAreNamed() {
    TinyLlama.write(dir, 3, TinyLlama.Size.DEFAULT);
    List<String> lines =
        List.of(
            "{\"instruction\": \"Say hi\", \"output\": \"hi\"}",
            "{\"instruction\": \"Add\", \"input\": \"2+2\", \"output\": \"4\"}");
    CheckpointEvaluation.Result result = CheckpointEvaluation.run(dir, dir, false, lines, null, 10);
    for (String metric :
        List.of("perplexity", "exact_match", "rouge1", "rougeL", "bleu", "sentence_bleu")) {
      assertTrue(result.metrics().containsKey(metric), metric + " in " + result.metrics().keySet());
    }
    assertEquals(2, result.samples().size());
    assertTrue(
        result.samples().get(1).prompt().contains("### Input:\n2+2"),
        result.samples().get(1).prompt());
    assertEquals(List.copyOf(result.metrics().keySet()), result.generation().get("metrics"));
    Map<String, String> leftOut = (Map<String, String>) result.generation().get("metrics_left_out");
    assertEquals("no reward model was given (eval.reward_model)", leftOut.get("win_rate"));
    assertTrue(
        leftOut.get("accuracy").startsWith("the references are not labels"), leftOut.toString());

    CheckpointEvaluation.Result promptsOnly =
        CheckpointEvaluation.run(dir, dir, false, List.of("{\"prompt\": \"Once\"}"), null, 10);
    Map<String, String> reasons =
        (Map<String, String>) promptsOnly.generation().get("metrics_left_out");
    assertTrue(
        reasons.get("perplexity").startsWith("no record has a completion"), reasons.toString());
    assertTrue(
        reasons.get("bleu").startsWith("no record has a reference answer"), reasons.toString());
  }
}
