package dev.tuneforge.llm.run;

import dev.tuneforge.llm.recipe.TrainingStep;
import java.nio.file.Path;
import java.util.Map;

/**
 * How a run ended.
 *
 * @param finalDir where the result is (nothing is written there when stopped)
 * @param adapter whether the result is a PEFT adapter (else a Hugging Face model directory)
 * @param last the last logged step; null when stopped before one
 * @param metrics the figures the result is announced with: SFT's {@code train_loss}, {@code
 *     valid_loss} and {@code valid_mean_token_accuracy}, the method's own figures otherwise
 * @param stopped whether the stop signal ended it before the end
 */
public record Outcome(
    Path finalDir,
    boolean adapter,
    TrainingStep last,
    Map<String, Double> metrics,
    boolean stopped) {
  public Outcome {
    metrics = Map.copyOf(metrics);
  }

  static Outcome stopped(Path finalDir, boolean adapter) {
    return new Outcome(finalDir, adapter, null, Map.of(), true);
  }

  /** The last logged step's number; 0 when there was none. */
  public long lastStep() {
    return last == null ? 0 : last.step();
  }
}
