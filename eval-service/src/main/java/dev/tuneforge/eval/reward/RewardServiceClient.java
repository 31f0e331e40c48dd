package dev.tuneforge.eval.reward;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.rl.TextReward;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Judges answers with a reward model of reward-service ({@code POST /v1/rewards}, in chunks of 64
 * items) at {@code tuneforge.eval.reward-service-url}.
 */
@ApplicationScoped
public class RewardServiceClient {
  private static final int CHUNK = 64;
  private static final String URL = "tuneforge.eval.reward-service-url";
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /** Read at each use: a URL may name a port known only once the server listens. */
  private static Optional<String> url() {
    return org.eclipse.microprofile.config.ConfigProvider.getConfig()
        .getOptionalValue(URL, String.class)
        .map(u -> u.replaceAll("/+$", ""));
  }

  public boolean configured() {
    return url().isPresent();
  }

  /** Reward model {@code model}; fails by name when no reward-service is configured. */
  public TextReward of(String model) {
    String base =
        url()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "reward and win_rate need reward-service: set tuneforge.eval.reward-service-url"
                            + " (TUNEFORGE_REWARD_SERVICE_URL)"));
    return (prompts, responses) -> {
      double[] scores = new double[prompts.size()];
      for (int from = 0; from < prompts.size(); from += CHUNK) {
        int to = Math.min(prompts.size(), from + CHUNK);
        double[] part = post(base, model, prompts.subList(from, to), responses.subList(from, to));
        System.arraycopy(part, 0, scores, from, part.length);
      }
      return scores;
    };
  }

  private double[] post(String base, String model, List<String> prompts, List<String> responses) {
    JsonObject body = new JsonObject();
    body.addProperty("model", model);
    JsonArray items = new JsonArray();
    for (int i = 0; i < prompts.size(); i++) {
      JsonObject item = new JsonObject();
      item.addProperty("prompt", prompts.get(i));
      // An empty answer is still judged: the reward model sees just its EOS.
      item.addProperty("response", responses.get(i).isEmpty() ? " " : responses.get(i));
      items.add(item);
    }
    body.add("items", items);
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(base + "/v1/rewards"))
            .timeout(Duration.ofSeconds(120))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    dev.tuneforge.platform.api.ServiceAuth.token()
        .ifPresent(t -> builder.header(dev.tuneforge.platform.api.ServiceAuth.TOKEN_HEADER, t));
    HttpRequest request = builder.build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            "reward-service answered "
                + response.statusCode()
                + " for model \""
                + model
                + "\": "
                + response.body());
      }
      JsonArray rewards =
          new Gson().fromJson(response.body(), JsonObject.class).getAsJsonArray("rewards");
      double[] scores = new double[rewards.size()];
      for (int i = 0; i < scores.length; i++) {
        scores[i] = rewards.get(i).getAsDouble();
      }
      return scores;
    } catch (IOException e) {
      throw new IllegalStateException("cannot reach reward-service at " + base, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while scoring", e);
    }
  }
}
