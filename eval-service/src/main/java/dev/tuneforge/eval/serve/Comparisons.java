package dev.tuneforge.eval.serve;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import dev.tuneforge.platform.storage.ObjectStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Side-by-side human ratings of a fine-tuned model against its base (an A/B comparison): a person
 * is shown one answer of each to the same prompt, usually blind and in random order, and says which
 * is better or that they tie. Which answer came from which model is known here, from the responses
 * this replica served ({@link #served}), never taken from the rater; each answer is rated once.
 *
 * <p>Every rating is an object in the bucket, {@code feedback/comparisons/{tenant}/{experiment
 * hash}/{id}.json} (written before the answer, so an accepted rating survives a restart), and is
 * counted in {@code tuneforge_ab_comparisons_total{experiment, outcome}} for the dashboards. The
 * results are read back from the bucket: ratings, tuned and base wins, ties, the win rate with ties
 * counted half and its 95% Wilson score interval.
 */
@ApplicationScoped
public class Comparisons {
  private static final double Z = 1.959963984540054;
  private static final Gson GSON = new Gson();

  /** A refused rating: HTTP status, message and the request field at fault. */
  public static final class Refused extends RuntimeException {
    final int status;
    final String param;

    Refused(int status, String message, String param) {
      super(message);
      this.status = status;
      this.param = param;
    }
  }

  private record Served(String model, Optional<String> tenant, boolean[] compared) {}

  private final ObjectStore store;
  private final MeterRegistry registry;
  private final Map<String, Served> responses = new RecentResponses<>();

  Comparisons(ObjectStore store, MeterRegistry registry) {
    this.store = store;
    this.registry = registry;
  }

  /** Records that response {@code id} was served by {@code model}, to {@code tenant} if named. */
  public synchronized void served(String id, String model, Optional<String> tenant) {
    responses.put(id, new Served(model, tenant, new boolean[1]));
  }

  /**
   * Records one rating of {@code experiment} (a fine-tuned model's name): {@code responseIds} the
   * two answers in the order the rater saw them, {@code preferred} one of them or "tie".
   */
  public Map<String, Object> compare(
      String experiment,
      List<String> responseIds,
      String preferred,
      String comment,
      Optional<String> tenant) {
    String owner = owner(experiment, tenant);
    checkRequest(responseIds, preferred, comment);
    String tunedId = claim(experiment, responseIds, tenant);
    String outcome = preferred.equals("tie") ? "tie" : preferred.equals(tunedId) ? "tuned" : "base";
    String id = "cmp-" + UUID.randomUUID().toString().replace("-", "");
    JsonObject record = new JsonObject();
    record.addProperty("id", id);
    record.addProperty("experiment", experiment);
    record.addProperty("base_model", ServedModels.baseOf(experiment));
    record.addProperty("outcome", outcome);
    record.addProperty("tuned_response_id", tunedId);
    record.addProperty("tuned_position", responseIds.indexOf(tunedId));
    record.addProperty("comment", comment == null ? "" : comment);
    record.addProperty("created_at", Instant.now().getEpochSecond());
    try {
      store.put(
          prefix(owner, experiment) + id + ".json",
          record.toString().getBytes(StandardCharsets.UTF_8),
          "application/json");
    } catch (RuntimeException e) {
      release(responseIds); // not recorded: the pair may be rated again
      throw e;
    }
    Counter.builder("tuneforge.ab.comparisons")
        .description("Side-by-side human ratings of a fine-tuned model against its base")
        .tag("experiment", experiment)
        .tag("outcome", outcome)
        .register(registry)
        .increment();
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("id", id);
    answer.put("object", "feedback.comparison");
    answer.put("experiment", experiment);
    answer.put("outcome", outcome);
    answer.put("tuned_response_id", tunedId);
    return answer;
  }

  private static void checkRequest(List<String> responseIds, String preferred, String comment) {
    if (responseIds.size() != 2 || responseIds.get(0).equals(responseIds.get(1))) {
      throw new Refused(400, "response_ids must be two different response ids", "response_ids");
    }
    if (!preferred.equals("tie") && !responseIds.contains(preferred)) {
      throw new Refused(
          400,
          "preferred must be one of response_ids or \"tie\" but was \"" + preferred + "\"",
          "preferred");
    }
    if (comment != null && comment.length() > 2000) {
      throw new Refused(400, "comment must be at most 2000 characters", "comment");
    }
  }

  /**
   * Marks both answers rated, after checking they were served to {@code tenant}, are not rated yet
   * and are one of the experiment's and one of its base's; returns the id of the tuned model's.
   */
  private synchronized String claim(
      String experiment, List<String> responseIds, Optional<String> tenant) {
    Served[] pair = new Served[2];
    for (int i = 0; i < 2; i++) {
      Served served = responses.get(responseIds.get(i));
      if (served == null || (tenant.isPresent() && !served.tenant().equals(tenant))) {
        throw new Refused(
            404, "no response with id \"" + responseIds.get(i) + "\"", "response_ids");
      }
      if (served.compared()[0]) {
        throw new Refused(
            409, "response \"" + responseIds.get(i) + "\" is already rated", "response_ids");
      }
      pair[i] = served;
    }
    String base = ServedModels.baseOf(experiment);
    int tuned = pair[0].model().equals(experiment) ? 0 : 1;
    if (!pair[tuned].model().equals(experiment) || !pair[1 - tuned].model().equals(base)) {
      throw new Refused(
          400,
          "response_ids must be one answer of "
              + experiment
              + " and one of its base "
              + base
              + ", but they are of "
              + pair[0].model()
              + " and "
              + pair[1].model(),
          "response_ids");
    }
    pair[0].compared()[0] = true;
    pair[1].compared()[0] = true;
    return responseIds.get(tuned);
  }

  private synchronized void release(List<String> responseIds) {
    for (String responseId : responseIds) {
      Served served = responses.get(responseId);
      if (served != null) {
        served.compared()[0] = false;
      }
    }
  }

  /** The experiment's results, read from every rating stored. */
  public Map<String, Object> results(String experiment, Optional<String> tenant) {
    String owner = owner(experiment, tenant);
    int tuned = 0;
    int base = 0;
    int ties = 0;
    List<Map<String, Object>> comments = new ArrayList<>();
    for (ObjectStore.ObjectInfo object : store.list(prefix(owner, experiment))) {
      JsonObject record =
          GSON.fromJson(
              new String(store.getBytes(object.key()), StandardCharsets.UTF_8), JsonObject.class);
      switch (record.get("outcome").getAsString()) {
        case "tuned" -> tuned++;
        case "base" -> base++;
        default -> ties++;
      }
      String comment = record.get("comment").getAsString();
      if (!comment.isEmpty()) {
        comments.add(
            Map.of(
                "outcome", record.get("outcome").getAsString(),
                "comment", comment,
                "created_at", record.get("created_at").getAsLong()));
      }
    }
    int n = tuned + base + ties;
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("object", "feedback.comparison_results");
    results.put("experiment", experiment);
    results.put("base_model", ServedModels.baseOf(experiment));
    results.put("ratings", n);
    results.put("tuned_wins", tuned);
    results.put("base_wins", base);
    results.put("ties", ties);
    if (n > 0) {
      double rate = (tuned + ties / 2.0) / n;
      results.put("win_rate", rate);
      results.put("win_rate_ci95", wilson(rate, n));
    } else {
      results.put("win_rate", null);
      results.put("win_rate_ci95", null);
    }
    comments.sort((a, b) -> Long.compare((Long) b.get("created_at"), (Long) a.get("created_at")));
    results.put("comments", comments.subList(0, Math.min(20, comments.size())));
    return results;
  }

  /** The 95% Wilson score interval of a proportion {@code p} of {@code n}. */
  static double[] wilson(double p, int n) {
    double z2 = Z * Z;
    double centre = (p + z2 / (2.0 * n)) / (1 + z2 / n);
    double half = Z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
    return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
  }

  /** The tenant that owns the experiment; another tenant's experiment does not exist for it. */
  private static String owner(String experiment, Optional<String> tenant) {
    Optional<String> owner = ServedModels.tenantOf(experiment);
    if (owner.isEmpty()) {
      throw new Refused(
          400,
          "experiment must be a fine-tuned model (ft:{base}:{tenant}:{suffix}:{job}) but was \""
              + experiment
              + "\"",
          "experiment");
    }
    if (tenant.isPresent() && !tenant.equals(owner)) {
      throw new Refused(404, "no experiment \"" + experiment + "\"", "experiment");
    }
    return owner.get();
  }

  private static String prefix(String tenant, String experiment) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(experiment.getBytes(StandardCharsets.UTF_8));
      return "feedback/comparisons/" + tenant + "/" + HexFormat.of().formatHex(digest, 0, 16) + "/";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
