package dev.tuneforge.eval.job;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Evaluations as Prometheus metrics: {@code tuneforge_evaluations_total{outcome}}, {@code
 * tuneforge_evaluation_seconds}, and the latest final evaluation's numbers as {@code
 * tuneforge_eval_last{metric, model}} (model tuned or base; metric one of the evaluation's names, a
 * bounded set). The job of that evaluation is in evals.completed and the report.
 */
@ApplicationScoped
public class EvalMetrics {
  private final MeterRegistry registry;
  private final Timer duration;
  private final Map<String, Double> last = new ConcurrentHashMap<>();

  EvalMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.duration =
        Timer.builder("tuneforge_evaluation")
            .description("Time to score a checkpoint and its base model")
            .register(registry);
    for (String outcome : new String[] {"succeeded", "failed"}) {
      evaluations(outcome);
    }
  }

  private Counter evaluations(String outcome) {
    return Counter.builder("tuneforge_evaluations_total")
        .description("Checkpoint evaluations by outcome")
        .tag("outcome", outcome)
        .register(registry);
  }

  /** A final evaluation's numbers, {name: {tuned, base}}. */
  void completed(Map<String, double[]> metrics, Duration took, boolean isFinal) {
    evaluations("succeeded").increment();
    duration.record(took);
    if (!isFinal) {
      return;
    }
    metrics.forEach(
        (name, values) -> {
          record(name, "tuned", values[0]);
          record(name, "base", values[1]);
        });
  }

  private void record(String metric, String model, double value) {
    String key = metric + "|" + model;
    if (last.put(key, value) == null) {
      Gauge.builder("tuneforge_eval_last", last, m -> m.getOrDefault(key, Double.NaN))
          .description("the latest final evaluation's value of a metric, tuned or base model")
          .tag("metric", metric)
          .tag("model", model)
          .register(registry);
    }
  }

  void failed() {
    evaluations("failed").increment();
  }
}
