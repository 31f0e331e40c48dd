package dev.tuneforge.llm.rl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.LetterTask;
import dev.tuneforge.llm.preference.PreferencePair;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Best-of-N over the {@link LetterTask} policy: the selected answer's mean judge score rises with
 * N, candidates come back ranked, and the ranking turns into SFT examples and preference pairs.
 */
class BestOfNTest {
  @TempDir static Path dir;
  static Path sft;

  @BeforeAll
  static void writePolicy() {
    sft = LetterTask.writeSftPolicy(dir);
  }

  @Test
  void theSelectedRewardRisesWithNAndTheRankingBecomesTrainingData() {
    List<int[]> prompts = LetterTask.prompts(64, 31);
    GenerationConfig sampling =
        GenerationConfig.greedy(8, Set.of(LetterTask.EOS)).withSampling(1.0, 0, 1.0, 5);
    try (LlamaModel model = LlamaModel.load(sft, Compute.CPU_FLOAT32, Projections.DENSE)) {
      BestOfN bestOfN = new BestOfN(model, null, LetterTask.JUDGE);
      double[] means = new double[3];
      int[] ns = {1, 4, 16};
      List<BestOfN.Ranked> sixteen = null;
      for (int i = 0; i < ns.length; i++) {
        List<BestOfN.Ranked> ranked = bestOfN.rank(prompts, ns[i], sampling, 256);
        means[i] = ranked.stream().mapToDouble(r -> r.best().score()).average().orElseThrow();
        for (BestOfN.Ranked r : ranked) {
          assertEquals(ns[i], r.candidates().size());
          for (int c = 1; c < r.candidates().size(); c++) {
            assertTrue(r.candidates().get(c - 1).score() >= r.candidates().get(c).score());
          }
        }
        sixteen = ranked;
      }
      System.out.printf(
          "best-of-n: mean selected reward N=1 %.3f, N=4 %.3f, N=16 %.3f%n",
          means[0], means[1], means[2]);
      assertTrue(means[1] > means[0] + 0.1, "N=4 beats N=1: " + means[1] + " vs " + means[0]);
      assertTrue(means[2] > means[1] + 0.1, "N=16 beats N=4: " + means[2] + " vs " + means[1]);

      List<TokenizedExample> sftData = BestOfN.bestAsSft(sixteen);
      assertEquals(prompts.size(), sftData.size());
      assertEquals(
          sixteen.get(0).best().tokens().length, sftData.get(0).trainedTokens(), "completion only");
      List<PreferencePair> pairs = BestOfN.bestVersusWorst(sixteen, 0.25);
      assertTrue(pairs.size() > prompts.size() / 2, pairs.size() + " pairs");
      for (PreferencePair pair : pairs) {
        assertTrue(LetterTask.judge(pair.chosen()) >= LetterTask.judge(pair.rejected()) + 0.25);
      }
      assertThrows(
          IllegalArgumentException.class,
          () -> bestOfN.rank(prompts, 4, GenerationConfig.greedy(8, Set.of()), 16),
          "n > 1 needs sampling");
    }
  }
}
