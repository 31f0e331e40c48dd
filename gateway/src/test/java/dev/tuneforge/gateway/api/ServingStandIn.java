package dev.tuneforge.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** A stand-in for eval-service's completions in gateway tests: echoes the model it was asked. */
@Path("/test-serving/v1")
@Consumes(MediaType.APPLICATION_JSON)
public class ServingStandIn {
  @POST
  @Path("/chat/completions")
  public Response chat(JsonNode body) {
    String model = body.path("model").asText();
    if (body.path("stream").asBoolean(false)) {
      String events =
          "data: {\"model\":\""
              + model
              + "\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
              + "data: {\"model\":\""
              + model
              + "\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"
              + "data: [DONE]\n\n";
      return Response.ok(events, "text/event-stream").build();
    }
    return Response.ok(
            "{\"object\":\"chat.completion\",\"model\":\"" + model + "\"}",
            MediaType.APPLICATION_JSON)
        .header("X-TuneForge-Variant", "tuned")
        .build();
  }

  /** Echoes a rating with the tenant the gateway named, so a test sees what was forwarded. */
  @POST
  @Path("/feedback/comparisons")
  public Response compare(
      JsonNode body,
      @jakarta.ws.rs.HeaderParam(dev.tuneforge.platform.api.ServiceAuth.TENANT_HEADER)
          String tenant) {
    return Response.ok(
            "{\"experiment\":\""
                + body.path("experiment").asText()
                + "\",\"tenant\":\""
                + tenant
                + "\"}",
            MediaType.APPLICATION_JSON)
        .build();
  }

  @jakarta.ws.rs.GET
  @Path("/feedback/comparisons")
  public Response results(
      @jakarta.ws.rs.QueryParam("experiment") String experiment,
      @jakarta.ws.rs.HeaderParam(dev.tuneforge.platform.api.ServiceAuth.TENANT_HEADER)
          String tenant) {
    return Response.ok(
            "{\"experiment\":\"" + experiment + "\",\"tenant\":\"" + tenant + "\",\"ratings\":0}",
            MediaType.APPLICATION_JSON)
        .build();
  }

  @POST
  @Path("/feedback")
  public Response feedback(JsonNode body) {
    return Response.status(404)
        .entity("{\"error\":{\"message\":\"no A/B response\",\"param\":\"response_id\"}}")
        .type(MediaType.APPLICATION_JSON)
        .build();
  }
}
