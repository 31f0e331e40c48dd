package dev.tuneforge.llm.data;

/**
 * One training example as tokens, with the positions whose tokens are trained (the completion, the
 * assistant turns, or everything for plain text).
 */
public record TokenizedExample(int[] ids, boolean[] trained) {
  public TokenizedExample {
    if (ids.length != trained.length) {
      throw new IllegalArgumentException(
          "ids (" + ids.length + ") and trained mask (" + trained.length + ") differ in length");
    }
    if (ids.length < 2) {
      throw new IllegalArgumentException(
          "an example needs at least 2 tokens but had " + ids.length);
    }
  }

  /** Trains on every token after {@code promptLength} (prompt/completion data). */
  public static TokenizedExample completion(int[] prompt, int[] completion) {
    int[] ids = new int[prompt.length + completion.length];
    System.arraycopy(prompt, 0, ids, 0, prompt.length);
    System.arraycopy(completion, 0, ids, prompt.length, completion.length);
    boolean[] trained = new boolean[ids.length];
    for (int i = prompt.length; i < ids.length; i++) {
      trained[i] = true;
    }
    return new TokenizedExample(ids, trained);
  }

  /** Tokens that count towards the loss. */
  public int trainedTokens() {
    int count = 0;
    for (boolean t : trained) {
      count += t ? 1 : 0;
    }
    return count;
  }
}
