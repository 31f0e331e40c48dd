package dev.tuneforge.llm.preference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Tape;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DPO's response log-probabilities a chunk of positions at a time equal those of the whole-batch
 * logits, and so do their gradients (weighted per row), with chunks of one and three positions.
 */
class SequenceLogProbsTest {
  @TempDir Path dir;

  private Map<String, float[]> run(boolean chunked, long chunk, float[][] sumsOut) {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(4, 8, 0.0, LoraSettings.ALL_LINEAR, false), 9);
    try (LlamaModel model =
            LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
        NDManager scope = model.manager().newSubManager()) {
      adapter
          .parameters()
          .forEach(
              (name, t) -> {
                if (name.endsWith("lora_B.weight")) {
                  Autograd.withGrad(false, () -> t.addi(0.05f));
                }
                t.setRequiresGradient(true);
              });
      SequenceBatch batch =
          SequenceBatch.of(
              List.of(new int[] {1, 70, 71, 72}, new int[] {1, 80}),
              List.of(new int[] {73, 74, 75, 76, 77, 2}, new int[] {81, 82, 83, 2}),
              0);
      float[] weights = {0.7f, -1.3f};
      Autograd.withGrad(
          true,
          () -> {
            if (chunked) {
              NDArray hidden = model.hiddenStates(batch.idsArray(scope), batch.maskArray(scope));
              NDArray leaf = Tape.cut(hidden);
              sumsOut[0] =
                  Autograd.withGrad(false, () -> SequenceLogProbs.sums(model, leaf, batch, chunk));
              SequenceLogProbs.backward(model, leaf, batch, weights, chunk);
            } else {
              NDArray logits = model.forward(batch.idsArray(scope), batch.maskArray(scope), null);
              NDArray sums = batch.responseLogProbs(logits, scope);
              sumsOut[0] = sums.toFloatArray();
              Autograd.backward(sums.mul(scope.create(weights)).sum());
            }
            return null;
          });
      Map<String, float[]> grads = new LinkedHashMap<>();
      adapter.parameters().forEach((n, t) -> grads.put(n, t.getGradient().toFloatArray()));
      return grads;
    }
  }

  @Test
  void chunkedLogProbsAndGradientsEqualTheWholeBatchOnes() {
    TinyLlama.write(dir, 4, TinyLlama.Size.DEFAULT);
    float[][] whole = new float[1][];
    Map<String, float[]> expected = run(false, 0, whole);
    for (long chunk : new long[] {1, 3}) {
      float[][] sums = new float[1][];
      Map<String, float[]> actual = run(true, chunk, sums);
      for (int r = 0; r < whole[0].length; r++) {
        assertEquals(whole[0][r], sums[0][r], 1e-4, "row " + r + " sum, chunk " + chunk);
      }
      expected.forEach(
          (name, g) -> {
            double scale = 1e-12;
            for (float v : g) {
              scale = Math.max(scale, Math.abs(v));
            }
            assertTrue(scale > 1e-9, name + " got a gradient");
            float[] a = actual.get(name);
            for (int i = 0; i < g.length; i++) {
              assertEquals(g[i], a[i], 1e-4 * scale, name + "[" + i + "], chunk " + chunk);
            }
          });
    }
  }
}
