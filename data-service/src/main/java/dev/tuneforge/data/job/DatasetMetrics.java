package dev.tuneforge.data.job;

import dev.tuneforge.data.prepare.DatasetStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;

/**
 * Dataset preparation as Prometheus metrics: {@code tuneforge_datasets_total{outcome}} (prepared,
 * rejected), {@code tuneforge_dataset_records_total{outcome}} (accepted into a split, duplicate
 * removed, dropped, rejected by a rule) and {@code tuneforge_dataset_preparation_seconds}.
 */
@ApplicationScoped
public class DatasetMetrics {
  private final MeterRegistry registry;
  private final Timer duration;

  DatasetMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.duration =
        Timer.builder("tuneforge_dataset_preparation")
            .description("Time to validate, format, split and commit a dataset")
            .register(registry);
    for (String outcome : new String[] {"prepared", "rejected"}) {
      datasets(outcome);
    }
    for (String outcome : new String[] {"accepted", "duplicate", "dropped", "rejected"}) {
      records(outcome);
    }
  }

  private Counter datasets(String outcome) {
    return Counter.builder("tuneforge_datasets_total")
        .description("Datasets prepared or rejected")
        .tag("outcome", outcome)
        .register(registry);
  }

  private Counter records(String outcome) {
    return Counter.builder("tuneforge_dataset_records_total")
        .description("Input records by what became of them")
        .tag("outcome", outcome)
        .register(registry);
  }

  void prepared(DatasetStats stats, Duration took) {
    datasets("prepared").increment();
    records("accepted").increment(stats.splits().values().stream().mapToInt(i -> i).sum());
    records("duplicate").increment(stats.exactDuplicatesRemoved() + stats.nearDuplicatesRemoved());
    records("dropped").increment(stats.dropped().values().stream().mapToInt(i -> i).sum());
    duration.record(took);
  }

  void rejected(int problems, Duration took) {
    datasets("rejected").increment();
    records("rejected").increment(problems);
    duration.record(took);
  }
}
