package dev.tuneforge.llm.rl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.Reference;
import dev.tuneforge.llm.preference.SequenceBatch;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PPO's per-token log-probabilities from logits at the response positions only equal those of the
 * whole-batch logits (position t predicts token t + 1), and so do their gradients.
 */
class ResponseLogitsTest {
  @TempDir Path dir;

  private Map<String, float[]> run(boolean atResponse, float[][] out) {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(4, 8, 0.0, LoraSettings.ALL_LINEAR, false), 5);
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
              List.of(new int[] {73, 74, 75, 2}, new int[] {81, 82, 83, 84, 85, 2}),
              0);
      Autograd.withGrad(
          true,
          () -> {
            NDArray ids = batch.idsArray(scope);
            NDArray mask = batch.maskArray(scope);
            NDArray index = RolloutTensors.responseIndex(batch, scope);
            NDArray tokenLogProbs;
            if (atResponse) {
              NDArray logits = Reference.logitsAt(model, ids, mask, index);
              NDArray next = ids.get(":, 1:").gather(index, 1).expandDims(-1);
              tokenLogProbs = logits.logSoftmax(-1).gather(next, -1).squeeze(-1);
            } else { // the whole-batch computation PPO used before
              NDArray logits = model.forward(ids, mask, null).get(":, :-1, :");
              NDArray next = ids.get(":, 1:").expandDims(-1);
              tokenLogProbs = logits.logSoftmax(-1).gather(next, -1).squeeze(-1).gather(index, 1);
            }
            NDArray responseMask =
                RolloutTensors.responseMask(batch, (int) index.getShape().get(1), scope);
            out[0] = tokenLogProbs.mul(responseMask).toFloatArray();
            Autograd.backward(tokenLogProbs.mul(responseMask).sum());
            return null;
          });
      Map<String, float[]> grads = new LinkedHashMap<>();
      adapter.parameters().forEach((n, t) -> grads.put(n, t.getGradient().toFloatArray()));
      return grads;
    }
  }

  @Test
  void logProbsAndGradientsEqualTheWholeBatchOnes() {
    TinyLlama.write(dir, 4, TinyLlama.Size.DEFAULT);
    float[][] whole = new float[1][];
    Map<String, float[]> expected = run(false, whole);
    float[][] response = new float[1][];
    Map<String, float[]> actual = run(true, response);
    assertEquals(whole[0].length, response[0].length);
    assertEquals(12, whole[0].length, "two rows of up to six response tokens");
    for (int i = 0; i < whole[0].length; i++) {
      assertEquals(whole[0][i], response[0][i], 1e-5, "token " + i);
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
            assertEquals(g[i], a[i], 1e-4 * scale, name + "[" + i + "]");
          }
        });
  }
}
