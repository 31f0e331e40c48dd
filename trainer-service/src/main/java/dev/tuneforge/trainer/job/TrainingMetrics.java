package dev.tuneforge.trainer.job;

import dev.tuneforge.llm.recipe.SftRecipe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The running job's figures as Prometheus metrics. A replica trains one job at a time, so the
 * gauges describe that job and carry no job-id label (bounded cardinality); the job id goes in the
 * events. Counters and the checkpoint timer add up over jobs.
 */
@ApplicationScoped
public class TrainingMetrics {
  private final AtomicReference<SftRecipe.Progress> last = new AtomicReference<>();
  private final MeterRegistry registry;
  private final Timer checkpointUpload;

  TrainingMetrics(MeterRegistry registry) {
    this.registry = registry;
    gauge("tuneforge_training_step", "steps", p -> p.step());
    gauge("tuneforge_training_total_steps", "steps", p -> p.totalSteps());
    gauge("tuneforge_training_loss", null, SftRecipe.Progress::loss);
    gauge("tuneforge_training_learning_rate", null, SftRecipe.Progress::learningRate);
    gauge("tuneforge_training_grad_norm", null, SftRecipe.Progress::gradNorm);
    gauge("tuneforge_training_tokens_per_second", "tokens", SftRecipe.Progress::tokensPerSecond);
    gauge("tuneforge_training_percent_done", "percent", SftRecipe.Progress::percentDone);
    gauge("tuneforge_training_eta_seconds", "seconds", p -> p.etaSeconds());
    this.checkpointUpload =
        Timer.builder("tuneforge_checkpoint_upload")
            .description("Time to commit a checkpoint or final result to object storage")
            .register(registry);
  }

  private void gauge(
      String name, String unit, java.util.function.ToDoubleFunction<SftRecipe.Progress> value) {
    Gauge.builder(
            name, last, ref -> ref.get() == null ? Double.NaN : value.applyAsDouble(ref.get()))
        .baseUnit(unit)
        .description(
            "the running job's " + name.replace("tuneforge_training_", "").replace('_', ' '))
        .register(registry);
  }

  void progress(SftRecipe.Progress progress) {
    last.set(progress);
  }

  void checkpointUploaded(Duration took) {
    checkpointUpload.record(took);
  }

  /** A job ended: succeeded, failed or cancelled. */
  void ended(String outcome) {
    Counter.builder("tuneforge_training_jobs_total")
        .tag("outcome", outcome)
        .description("training jobs ended on this replica")
        .register(registry)
        .increment();
    last.set(null);
  }
}
