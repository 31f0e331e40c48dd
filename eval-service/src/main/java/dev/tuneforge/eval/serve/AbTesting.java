package dev.tuneforge.eval.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A/B tests of a fine-tuned model against its base. A request for model {@code ab:{fine-tuned}} is
 * routed to the tuned model with probability {@code tuneforge.serving.ab.tuned-share}, to the base
 * otherwise (sticky per {@code user} when the request names one). Every response is tagged with its
 * variant and can be rated once, thumbs up or down, by its id.
 *
 * <p>Metrics, by experiment and variant: {@code tuneforge_ab_responses_total}, {@code
 * tuneforge_ab_feedback_total{rating}} (the feedback rate is feedback over responses, the up rate
 * up over feedback) and {@code tuneforge_ab_latency_seconds}. The experiment is a fine-tuned
 * model's name, so it holds a tenant and a job id: these metrics are for operators, and only
 * Prometheus reaches eval-service's {@code /q/metrics} (k8s NetworkPolicy).
 */
@ApplicationScoped
public class AbTesting {
  public static final String PREFIX = "ab:";

  /** Where one request went. */
  public record Route(String experiment, String variant, String model) {}

  /** The outcome of a rating. */
  public enum Rated {
    RECORDED,
    UNKNOWN_RESPONSE,
    ALREADY_RATED
  }

  private record Served(
      String experiment, String variant, Optional<String> tenant, boolean[] rated) {}

  private final MeterRegistry registry;
  private final double tunedShare;
  private final Map<String, Served> responses = new RecentResponses<>();

  AbTesting(MeterRegistry registry, dev.tuneforge.eval.config.ServingConfig config) {
    double tunedShare = config.ab().tunedShare();
    if (!(tunedShare >= 0 && tunedShare <= 1)) {
      throw new IllegalArgumentException(
          "tuneforge.serving.ab.tuned-share must be in [0, 1] but was " + tunedShare);
    }
    this.registry = registry;
    this.tunedShare = tunedShare;
  }

  /** The route of a request for {@code model}, or empty when it is not an A/B model. */
  public Optional<Route> route(String model, String user) {
    if (!model.startsWith(PREFIX)) {
      return Optional.empty();
    }
    String tuned = model.substring(PREFIX.length());
    double draw =
        user == null || user.isEmpty()
            ? ThreadLocalRandom.current().nextDouble()
            : (Math.floorMod((tuned + "|" + user).hashCode(), 10_000)) / 10_000.0;
    boolean toTuned = draw < tunedShare;
    return Optional.of(
        new Route(tuned, toTuned ? "tuned" : "base", toTuned ? tuned : ServedModels.baseOf(tuned)));
  }

  /** Records a served response of {@code route}, to {@code tenant} when the gateway named one. */
  public synchronized void served(
      String responseId, Route route, Duration latency, Optional<String> tenant) {
    responses.put(
        responseId, new Served(route.experiment(), route.variant(), tenant, new boolean[1]));
    Counter.builder("tuneforge.ab.responses")
        .description("Responses served in an A/B test")
        .tag("experiment", route.experiment())
        .tag("variant", route.variant())
        .register(registry)
        .increment();
    Timer.builder("tuneforge.ab.latency")
        .description("Time to a complete response in an A/B test")
        .tag("experiment", route.experiment())
        .tag("variant", route.variant())
        .publishPercentileHistogram()
        .register(registry)
        .record(latency);
  }

  /**
   * Rates response {@code responseId} up ({@code true}) or down, for {@code tenant}: a response
   * served to another tenant is unknown to it.
   */
  public synchronized Rated rate(String responseId, boolean up, Optional<String> tenant) {
    Served served = responses.get(responseId);
    if (served == null || (tenant.isPresent() && !served.tenant().equals(tenant))) {
      return Rated.UNKNOWN_RESPONSE;
    }
    if (served.rated()[0]) {
      return Rated.ALREADY_RATED;
    }
    served.rated()[0] = true;
    Counter.builder("tuneforge.ab.feedback")
        .description("Thumbs up or down on A/B responses")
        .tag("experiment", served.experiment())
        .tag("variant", served.variant())
        .tag("rating", up ? "up" : "down")
        .register(registry)
        .increment();
    return Rated.RECORDED;
  }

  /** The variant a response was served by, if it was part of a test. */
  public synchronized Optional<String> variantOf(String responseId) {
    return Optional.ofNullable(responses.get(responseId)).map(Served::variant);
  }
}
