package dev.tuneforge.llm.recipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftOptionsTest {
  @TempDir Path dir;

  @Test
  void neftuneNoiseChangesTheForwardOnlyWhileSet() {
    TinyLlama.write(dir, 1, TinyLlama.Size.DEFAULT);
    long[] ids = {268, 72, 101, 108, 108, 111};
    try (LlamaModel model = LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE);
        NDManager scope = model.manager().newSubManager()) {
      float[] clean = model.forward(scope.create(ids, new Shape(1, 6)), null, null).toFloatArray();
      model.setNeftuneNoise(5);
      float[] noisy = model.forward(scope.create(ids, new Shape(1, 6)), null, null).toFloatArray();
      model.setNeftuneNoise(0);
      float[] again = model.forward(scope.create(ids, new Shape(1, 6)), null, null).toFloatArray();
      assertFalse(Arrays.equals(clean, noisy), "noise changes the logits");
      assertArrayEquals(clean, again, 0f, "off again, the forward is clean");
    }
  }

  @Test
  void groupByLengthSortsEachMegaBatchLongestFirstAndKeepsEveryExample() {
    List<TokenizedExample> examples = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      int[] ids = new int[2 + (i * 7) % 13];
      boolean[] trained = new boolean[ids.length];
      ids[0] = i; // identity, to check it is a permutation
      examples.add(new TokenizedExample(ids, trained));
    }
    DataOrder order = new DataOrder(examples, 3, 10);
    List<Integer> lengths = new ArrayList<>();
    HashSet<Integer> seen = new HashSet<>();
    for (int batch = 0; batch < 10; batch++) {
      for (Object unit : order.next(4)) {
        TokenizedExample example = (TokenizedExample) unit;
        lengths.add(example.ids().length);
        seen.add(example.ids()[0]);
      }
    }
    assertEquals(40, seen.size(), "an epoch draws every example once");
    for (int mega = 0; mega < 4; mega++) {
      List<Integer> block = lengths.subList(mega * 10, mega * 10 + 10);
      for (int i = 1; i < block.size(); i++) {
        assertTrue(
            block.get(i - 1) >= block.get(i),
            "mega-batch " + mega + " sorted longest first: " + block);
      }
    }
  }
}
