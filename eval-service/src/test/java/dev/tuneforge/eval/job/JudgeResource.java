package dev.tuneforge.eval.job;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Map;

/** A stand-in for reward-service in tests: the reward of a response is its length in characters. */
@Path("/test-judge/v1/rewards")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class JudgeResource {
  public record Item(String prompt, String response) {}

  public record Request(String model, List<Item> items) {}

  static double rule(String response) {
    return response.strip().length();
  }

  @POST
  public Map<String, Object> score(Request request) {
    if (!"length-judge".equals(request.model())) {
      throw new jakarta.ws.rs.NotFoundException("no model " + request.model());
    }
    return Map.of(
        "model",
        request.model(),
        "rewards",
        request.items().stream().map(i -> rule(i.response())).toList());
  }
}
