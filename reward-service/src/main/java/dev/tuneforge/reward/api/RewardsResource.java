package dev.tuneforge.reward.api;

import dev.tuneforge.reward.model.RewardBatcher;
import dev.tuneforge.reward.model.RewardModels;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Map;

/**
 * Reward scoring over HTTP: {@code POST /v1/rewards} with (prompt, response) items, and OpenRLHF's
 * {@code POST /get_reward} ({@code {"query": [...]}} → {@code {"rewards": [...]}}), whose queries
 * are whole texts scored with the first model served.
 */
@Path("/")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Blocking
public class RewardsResource {
  private final RewardModels models;
  private final RewardBatcher batcher;
  private final java.time.Duration timeout;

  RewardsResource(
      RewardModels models, RewardBatcher batcher, dev.tuneforge.reward.config.RewardConfig config) {
    this.models = models;
    this.batcher = batcher;
    this.timeout = config.httpTimeout();
  }

  /** Scores through the batcher, joined with whatever else is waiting. */
  private double[] score(String model, List<RewardModels.Item> items) {
    try {
      return batcher
          .submit(model, items)
          .get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw error(503, "interrupted while scoring", "items");
    } catch (java.util.concurrent.TimeoutException e) {
      throw error(503, "not scored within " + timeout.toSeconds() + " s; try again", "items");
    } catch (java.util.concurrent.ExecutionException e) {
      throw error(500, "scoring failed: " + e.getCause().getMessage(), "items");
    }
  }

  /** A scoring request; {@code model} defaults to the first served. */
  public record Request(String model, List<RewardModels.Item> items) {}

  public record Scores(String object, String model, List<Double> rewards) {}

  @POST
  @Path("/v1/rewards")
  public Scores rewards(Request request) {
    if (request == null || request.items() == null || request.items().isEmpty()) {
      throw error(400, "items is required: a non-empty list of {prompt, response}", "items");
    }
    for (int i = 0; i < request.items().size(); i++) {
      RewardModels.Item item = request.items().get(i);
      if (item == null || item.response() == null || item.response().isEmpty()) {
        throw error(
            400,
            "items[" + i + "].response is required and non-empty",
            "items[" + i + "].response");
      }
    }
    String model = model(request.model());
    double[] scores = score(model, request.items());
    return new Scores("list", model, java.util.Arrays.stream(scores).boxed().toList());
  }

  /** OpenRLHF's remote reward-model protocol. */
  public record Query(List<String> query) {}

  @POST
  @Path("/get_reward")
  public Map<String, List<Double>> getReward(Query request) {
    if (request == null || request.query() == null || request.query().isEmpty()) {
      throw error(400, "query is required: a non-empty list of texts", "query");
    }
    List<RewardModels.Item> items =
        request.query().stream().map(text -> new RewardModels.Item("", text)).toList();
    double[] scores = score(model(null), items);
    return Map.of("rewards", java.util.Arrays.stream(scores).boxed().toList());
  }

  private String model(String requested) {
    if (requested == null || requested.isEmpty()) {
      if (models.names().isEmpty()) {
        throw error(
            503, "this replica serves no reward model (set tuneforge.reward.models)", "model");
      }
      return models.names().get(0);
    }
    if (!models.serves(requested)) {
      throw error(
          404,
          "reward model \"" + requested + "\" is not served here; served: " + models.names(),
          "model");
    }
    return requested;
  }

  private static WebApplicationException error(int status, String message, String param) {
    return new WebApplicationException(
        dev.tuneforge.platform.api.OpenAiError.response(
            status, "invalid_request_error", null, message, param));
  }
}
