package dev.tuneforge.trainer.job;

import dev.tuneforge.proto.v1.TrainingProgress;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * The running job's figures as Prometheus gauges labelled with its {@code job_id} and {@code
 * method}: registered when the job starts and removed when it ends, so a replica (one job at a
 * time) exposes at most one job's series and the label's values stay bounded by the replicas. Every
 * method's progress feeds them (SFT, DPO, reward model, PPO, Best-of-N).
 *
 * <p>{@code tuneforge_training_mfu} is the model FLOPs utilisation: 6 × parameters × tokens/s
 * (forward and backward of a dense decoder) over {@code tuneforge.trainer.peak-flops}, the device's
 * peak. Counters and the checkpoint timer add up over jobs.
 */
@ApplicationScoped
public class TrainingMetrics {
  private final AtomicReference<TrainingProgress> last = new AtomicReference<>();
  private final List<Meter.Id> gauges = new ArrayList<>();
  private final MeterRegistry registry;
  private final Timer checkpointUpload;
  private final double peakFlops;
  private volatile double parameters;

  TrainingMetrics(MeterRegistry registry, dev.tuneforge.trainer.config.TrainerConfig config) {
    this.registry = registry;
    this.peakFlops = config.peakFlops();
    this.checkpointUpload =
        Timer.builder("tuneforge_checkpoint_upload")
            .description("Time to commit a checkpoint or final result to object storage")
            .publishPercentileHistogram()
            .register(registry);
    for (String outcome : new String[] {"trained", "failed", "cancelled"}) {
      jobs(outcome);
    }
  }

  /** A job starts on this replica: its gauges appear, with {@code parameters} for the MFU. */
  synchronized void started(String jobId, String method, long parameters) {
    removeGauges();
    this.parameters = parameters;
    last.set(null);
    Tags tags = Tags.of("job_id", jobId, "method", method);
    gauge("tuneforge_training_step", tags, p -> p.getStep());
    gauge("tuneforge_training_total_steps", tags, p -> p.getTotalSteps());
    gauge("tuneforge_training_epoch", tags, TrainingProgress::getEpoch);
    gauge("tuneforge_training_loss", tags, TrainingProgress::getLoss);
    gauge("tuneforge_training_learning_rate", tags, TrainingProgress::getLearningRate);
    gauge("tuneforge_training_grad_norm", tags, TrainingProgress::getGradNorm);
    gauge("tuneforge_training_tokens_per_second", tags, TrainingProgress::getTokensPerSecond);
    gauge("tuneforge_training_percent_done", tags, TrainingProgress::getPercentDone);
    gauge("tuneforge_training_eta_seconds", tags, p -> p.getEtaSeconds());
    gauge(
        "tuneforge_training_mfu",
        tags,
        p -> peakFlops > 0 ? 6 * this.parameters * p.getTokensPerSecond() / peakFlops : 0);
  }

  private void gauge(String name, Tags tags, ToDoubleFunction<TrainingProgress> value) {
    gauges.add(
        Gauge.builder(name, last, ref -> ref.get() == null ? 0 : value.applyAsDouble(ref.get()))
            .description(
                "the running job's " + name.replace("tuneforge_training_", "").replace('_', ' '))
            .tags(tags)
            .register(registry)
            .getId());
  }

  void progress(TrainingProgress progress) {
    last.set(progress);
  }

  void checkpointUploaded(Duration took) {
    checkpointUpload.record(took);
  }

  /** A job ended: trained, failed or cancelled; its gauges go. */
  synchronized void ended(String outcome) {
    jobs(outcome).increment();
    removeGauges();
    last.set(null);
  }

  private Counter jobs(String outcome) {
    return Counter.builder("tuneforge_training_jobs_total")
        .tag("outcome", outcome)
        .description("training jobs ended on this replica")
        .register(registry);
  }

  private void removeGauges() {
    gauges.forEach(registry::remove);
    gauges.clear();
  }

  /** The model's parameter count, from its safetensors' sizes and dtype (for the MFU). */
  static long parameters(Path modelDir) {
    try (Stream<Path> files = Files.list(modelDir)) {
      long bytes =
          files
              .filter(f -> f.toString().endsWith(".safetensors"))
              .mapToLong(
                  f -> {
                    try {
                      return Files.size(f);
                    } catch (IOException e) {
                      return 0;
                    }
                  })
              .sum();
      String config = Files.readString(modelDir.resolve("config.json"));
      return bytes / (config.contains("\"float32\"") ? 4 : 2);
    } catch (IOException e) {
      return 0;
    }
  }
}
