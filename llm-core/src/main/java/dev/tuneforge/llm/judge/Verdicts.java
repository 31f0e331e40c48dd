package dev.tuneforge.llm.judge;

/**
 * A judge's answers for a batch of (prompt, first, second).
 *
 * @param better per prompt: 0 when the first response is better, 1 when the second is, {@link
 *     Judge#NO_VERDICT} when the judge gave none
 * @param firstScores the first responses' scores, for a pointwise judge; null for a pairwise one
 * @param secondScores the second responses' scores, likewise
 * @param unparseable prompts an LLM judge's reply (either, when asked twice) held no verdict for
 * @param inconsistent prompts whose verdict flipped when the two responses were swapped (position
 *     bias), so they got none
 */
public record Verdicts(
    int[] better, double[] firstScores, double[] secondScores, int unparseable, int inconsistent) {
  public Verdicts {
    if ((firstScores == null) != (secondScores == null)) {
      throw new IllegalArgumentException("scores come for both responses or for neither");
    }
    if (firstScores != null
        && (firstScores.length != better.length || secondScores.length != better.length)) {
      throw new IllegalArgumentException(
          better.length + " verdicts but " + firstScores.length + " and " + secondScores.length);
    }
  }

  /** Verdicts of a pairwise judge, nothing unparseable. */
  public static Verdicts of(int[] better) {
    return new Verdicts(better, null, null, 0, 0);
  }

  /**
   * Verdicts from scores, as TRL's online DPO decides: the first response is better when its score
   * is at least the second's.
   */
  public static Verdicts ofScores(double[] first, double[] second) {
    int[] better = new int[first.length];
    for (int i = 0; i < better.length; i++) {
      better[i] = first[i] >= second[i] ? 0 : 1;
    }
    return new Verdicts(better, first, second, 0, 0);
  }

  /**
   * How often the first response wins, over the prompts with a verdict: a win counts 1, equal
   * scores (a pointwise judge's tie) 0.5, a loss 0; NaN when no prompt has a verdict.
   */
  public double winRate() {
    double wins = 0;
    int decided = 0;
    for (int i = 0; i < better.length; i++) {
      if (better[i] == Judge.NO_VERDICT) {
        continue;
      }
      decided++;
      if (firstScores != null && firstScores[i] == secondScores[i]) {
        wins += 0.5;
      } else {
        wins += better[i] == 0 ? 1 : 0;
      }
    }
    return decided == 0 ? Double.NaN : wins / decided;
  }

  /** Prompts with a verdict. */
  public int decided() {
    int count = 0;
    for (int b : better) {
      count += b == Judge.NO_VERDICT ? 0 : 1;
    }
    return count;
  }
}
