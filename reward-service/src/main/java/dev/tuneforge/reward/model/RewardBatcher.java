package dev.tuneforge.reward.model;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Dynamic batching: scoring requests from HTTP and Kafka wait in one queue, and a single scoring
 * thread takes them in arrival order, joining requests for the same model into one forward batch
 * until it holds {@code max-batch-size} items or the oldest has waited {@code max-wait}. A request
 * is never split; one larger than the bound is scored alone.
 *
 * <p>Metrics: {@code tuneforge_reward_scores_total} (by model; its rate is scores/s), {@code
 * tuneforge_reward_batch_size} (items per forward batch), {@code
 * tuneforge_reward_requests_per_batch}, {@code tuneforge_reward_latency_seconds} (enqueue to
 * scores, per request, a histogram) and {@code tuneforge_reward_queue_items} (waiting now).
 */
@ApplicationScoped
@io.quarkus.runtime.Startup
public class RewardBatcher {
  private static final Logger LOG = Logger.getLogger(RewardBatcher.class);

  private record Pending(
      String model,
      List<RewardModels.Item> items,
      CompletableFuture<double[]> result,
      long since) {}

  private final RewardModels models;
  private final MeterRegistry registry;
  private final int maxBatchSize;
  private final long maxWaitNanos;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Deque<Pending> deferred = new ArrayDeque<>();
  private final DistributionSummary batchSizes;
  private final DistributionSummary requestsPerBatch;
  private final Timer latency;
  private final Thread worker;
  private volatile boolean running = true;

  RewardBatcher(
      RewardModels models,
      MeterRegistry registry,
      dev.tuneforge.reward.config.RewardConfig config) {
    int maxBatchSize = config.batching().maxBatchSize();
    Duration maxWait = config.batching().maxWait();
    if (maxBatchSize <= 0 || maxWait.isNegative()) {
      throw new IllegalArgumentException(
          "tuneforge.reward.batching.max-batch-size must be > 0 and max-wait >= 0 but were "
              + maxBatchSize
              + " and "
              + maxWait);
    }
    this.models = models;
    this.registry = registry;
    this.maxBatchSize = maxBatchSize;
    this.maxWaitNanos = maxWait.toNanos();
    this.batchSizes =
        DistributionSummary.builder("tuneforge.reward.batch.size")
            .description("Items scored per forward batch")
            .publishPercentileHistogram()
            .register(registry);
    this.requestsPerBatch =
        DistributionSummary.builder("tuneforge.reward.requests.per.batch")
            .description("Requests joined into one forward batch")
            .register(registry);
    this.latency =
        Timer.builder("tuneforge.reward.latency")
            .description("From a request's arrival to its scores")
            .publishPercentileHistogram()
            .register(registry);
    // Registered at start-up (@Startup), so the dashboards show zeros before the first request.
    registry.gauge(
        "tuneforge.reward.queue.items",
        queue,
        q -> q.stream().mapToInt(p -> p.items().size()).sum());
    this.worker = new Thread(this::loop, "reward-batcher");
    this.worker.setDaemon(true);
    this.worker.start();
  }

  /** Queues {@code items} for model {@code model}; completes with their scores in order. */
  public CompletableFuture<double[]> submit(String model, List<RewardModels.Item> items) {
    CompletableFuture<double[]> result = new CompletableFuture<>();
    if (items.isEmpty()) {
      result.complete(new double[0]);
      return result;
    }
    queue.add(new Pending(model, List.copyOf(items), result, System.nanoTime()));
    return result;
  }

  private void loop() {
    while (running) {
      try {
        List<Pending> batch = next();
        if (!batch.isEmpty()) {
          score(batch);
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.error("reward batcher loop failed", e);
      }
    }
  }

  /** The next batch: the oldest request and those for its model that join before the bound. */
  private List<Pending> next() throws InterruptedException {
    Pending first = deferred.isEmpty() ? queue.poll(200, TimeUnit.MILLISECONDS) : deferred.poll();
    if (first == null) {
      return List.of();
    }
    List<Pending> batch = new ArrayList<>(List.of(first));
    int items = first.items().size();
    long deadline = first.since() + maxWaitNanos;
    // Requests deferred earlier for another model keep their turn before new ones.
    for (var it = deferred.iterator(); it.hasNext() && items < maxBatchSize; ) {
      Pending p = it.next();
      if (p.model().equals(first.model()) && items + p.items().size() <= maxBatchSize) {
        batch.add(p);
        items += p.items().size();
        it.remove();
      }
    }
    while (items < maxBatchSize) {
      long left = deadline - System.nanoTime();
      Pending p = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
      if (p == null) {
        break;
      }
      if (p.model().equals(first.model()) && items + p.items().size() <= maxBatchSize) {
        batch.add(p);
        items += p.items().size();
      } else {
        deferred.add(p);
        if (!p.model().equals(first.model())) {
          continue;
        }
        break; // the next one of this model would overflow: score what there is
      }
    }
    return batch;
  }

  private void score(List<Pending> batch) {
    String model = batch.get(0).model();
    List<RewardModels.Item> items = new ArrayList<>();
    batch.forEach(p -> items.addAll(p.items()));
    double[] scores;
    try {
      scores = models.score(model, items);
    } catch (RuntimeException e) {
      batch.forEach(p -> p.result().completeExceptionally(e));
      return;
    }
    batchSizes.record(items.size());
    requestsPerBatch.record(batch.size());
    Counter.builder("tuneforge.reward.scores")
        .description("Responses scored")
        .tag("model", model)
        .register(registry)
        .increment(items.size());
    int at = 0;
    long now = System.nanoTime();
    for (Pending p : batch) {
      double[] mine = java.util.Arrays.copyOfRange(scores, at, at + p.items().size());
      at += p.items().size();
      latency.record(now - p.since(), TimeUnit.NANOSECONDS);
      p.result().complete(mine);
    }
  }

  @PreDestroy
  void stop() {
    running = false;
    worker.interrupt();
    RuntimeException closing = new IllegalStateException("reward-service is shutting down");
    deferred.forEach(p -> p.result().completeExceptionally(closing));
    queue.forEach(p -> p.result().completeExceptionally(closing));
  }
}
