package dev.tuneforge.llm.recipe;

/** Trained tokens per second since a run (or its resume) began, and the time left at that pace. */
public final class Throughput {
  private final long start = System.nanoTime();
  private long tokens;

  /** Counts {@code count} more trained tokens. */
  public void add(long count) {
    tokens += count;
  }

  public double tokensPerSecond() {
    return tokens / Math.max(1e-9, (System.nanoTime() - start) / 1e9);
  }

  /** Seconds left at the pace of the steps done so far. */
  public long etaSeconds(long stepsDone, long stepsLeft) {
    double perStep = (System.nanoTime() - start) / 1e9 / Math.max(1, stepsDone);
    return Math.round(perStep * stepsLeft);
  }
}
