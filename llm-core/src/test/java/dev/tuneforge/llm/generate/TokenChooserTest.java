package dev.tuneforge.llm.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The logits processors on hand-made rows, with the expected numbers worked out below. */
class TokenChooserTest {
  static final float NEG = Float.NEGATIVE_INFINITY;

  @Test
  void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOnce() {
    float[] logits = {2f, -1f, 3f};
    // tokens 0 and 1 seen (0 twice): 2/2 = 1, -1*2 = -2, token 2 untouched
    TokenChooser.penalize(logits, new int[] {0, 1, 0}, 2f);
    assertArrayEquals(new float[] {1f, -2f, 3f}, logits);
  }

  @Test
  void topKKeepsTheKLargest() {
    float[] logits = {1f, 4f, 3f, 2f};
    TokenChooser.keepTopK(logits, 2);
    assertArrayEquals(new float[] {NEG, 4f, 3f, NEG}, logits);
  }

  @Test
  void topPKeepsTheSmallestSetReachingP() {
    // probabilities ln-spaced: softmax(ln 0.5, ln 0.3, ln 0.15, ln 0.05) = 0.5, 0.3, 0.15, 0.05
    float[] logits = {
      (float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)
    };
    // top_p = 0.8: drop from the bottom while the dropped mass stays <= 0.2: 0.05, then 0.15 (0.2)
    TokenChooser.keepTopP(logits, 0.8);
    assertEquals(NEG, logits[3]);
    assertEquals(NEG, logits[2]);
    assertEquals((float) Math.log(0.3), logits[1]);
  }

  @Test
  void topPNeverDropsTheMostLikelyToken() {
    float[] logits = {10f, 0f};
    TokenChooser.keepTopP(logits, 0.01);
    assertEquals(10f, logits[0]);
  }

  @Test
  void greedyPicksTheArgmax() {
    GenerationConfig greedy = GenerationConfig.greedy(1, Set.of());
    assertEquals(2, new TokenChooser(greedy).choose(new float[] {0f, 1f, 5f, 2f}, new int[0]));
  }

  @Test
  void invalidSettingsAreNamedWithTheirValues() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new GenerationConfig(10, true, 1.0, 0, 1.5, 1.0, Set.of(), List.of(), 0, true));
    assertEquals("top_p must be in (0, 1] but was 1.5", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(0, Set.of()));
  }
}
