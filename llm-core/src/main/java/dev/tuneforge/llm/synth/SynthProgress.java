package dev.tuneforge.llm.synth;

import java.nio.file.Path;
import java.util.Map;

/**
 * After each saved round (Self-Instruct) or batch (Constitutional AI): how far the run is, its
 * figures so far, and the state file a resumed run starts from.
 */
public record SynthProgress(long done, long total, Map<String, Double> figures, Path state) {
  public SynthProgress {
    figures = Map.copyOf(figures);
  }

  /** Told of each saved round or batch. */
  @FunctionalInterface
  public interface Listener {
    void saved(SynthProgress progress);

    Listener NONE = progress -> {};
  }
}
