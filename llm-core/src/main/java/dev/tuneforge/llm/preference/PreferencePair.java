package dev.tuneforge.llm.preference;

/**
 * One human (or synthetic) preference as tokens: for {@code prompt}, the response {@code chosen}
 * was preferred over {@code rejected}. Responses end with the EOS token when they are complete.
 *
 * @param margin how strongly chosen is preferred (TRL's optional {@code margin} column); 0 when not
 *     given
 */
public record PreferencePair(int[] prompt, int[] chosen, int[] rejected, double margin) {
  public PreferencePair {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("a preference pair needs a non-empty prompt");
    }
    if (chosen.length == 0 || rejected.length == 0) {
      throw new IllegalArgumentException(
          "a preference pair needs non-empty chosen and rejected responses");
    }
    if (!Double.isFinite(margin)) {
      throw new IllegalArgumentException("margin must be finite but was " + margin);
    }
  }

  public PreferencePair(int[] prompt, int[] chosen, int[] rejected) {
    this(prompt, chosen, rejected, 0);
  }

  /** The tokens the pair's two sequences hold (the prompt twice). */
  public long tokens() {
    return 2L * prompt.length + chosen.length + rejected.length;
  }

  /** The tokens {@code pairs} hold. */
  public static long tokens(java.util.List<PreferencePair> pairs) {
    return pairs.stream().mapToLong(PreferencePair::tokens).sum();
  }
}
