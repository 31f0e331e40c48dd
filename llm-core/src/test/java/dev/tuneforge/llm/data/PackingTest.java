package dev.tuneforge.llm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackingTest {
  @TempDir Path dir;

  static TokenizedExample example(int... ids) {
    boolean[] trained = new boolean[ids.length];
    Arrays.fill(trained, true);
    return new TokenizedExample(ids, trained);
  }

  @Test
  void rowsKeepOrderAndNeverTrainASegmentsFirstToken() {
    List<Packing.Row> rows =
        Packing.pack(
            List.of(example(1, 2, 3), example(4, 5), example(6, 7, 8, 9), example(10, 11)), 6);
    assertEquals(2, rows.size());
    assertEquals(List.of(1, 2, 3, 4, 5), Arrays.stream(rows.get(0).ids()).boxed().toList());
    assertEquals(List.of(1, 1, 1, 2, 2), Arrays.stream(rows.get(0).segments()).boxed().toList());
    boolean[] trained = rows.get(0).trained();
    assertEquals(false, trained[0]);
    assertEquals(true, trained[1]);
    assertEquals(false, trained[3], "first token of the second example");
  }

  /** Each packed example gets exactly the logits it gets alone: no cross-contamination. */
  @Test
  void packedExamplesComputeAsIfAlone() {
    TinyLlama.write(dir, 6, TinyLlama.Size.DEFAULT);
    List<TokenizedExample> examples =
        List.of(example(268, 72, 105, 33), example(268, 65, 66), example(268, 90, 91, 92, 93));
    Packing.Row row = Packing.pack(examples, 16).get(0);
    try (LlamaModel model = LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE);
        NDManager scope = model.manager().newSubManager()) {
      long[] ids = Arrays.stream(row.ids()).asLongStream().toArray();
      long[] segments = Arrays.stream(row.segments()).asLongStream().toArray();
      Shape shape = new Shape(1, ids.length);
      float[] packed =
          model
              .forwardPacked(scope.create(ids, shape), scope.create(segments, shape))
              .toFloatArray();
      int vocab = model.config().vocabSize();
      int offset = 0;
      for (TokenizedExample example : examples) {
        long[] alone = Arrays.stream(example.ids()).asLongStream().toArray();
        NDArray logits = model.forward(scope.create(alone, new Shape(1, alone.length)), null, null);
        float[] expected = logits.toFloatArray();
        for (int i = 0; i < expected.length; i++) {
          assertEquals(
              expected[i],
              packed[offset * vocab + i],
              1e-5,
              "token " + (i / vocab) + " of an example at " + offset);
        }
        offset += alone.length;
      }
    }
  }
}
