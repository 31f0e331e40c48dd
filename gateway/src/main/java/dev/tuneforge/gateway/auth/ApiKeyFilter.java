package dev.tuneforge.gateway.auth;

import dev.tuneforge.platform.api.OpenAiError;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.ext.Provider;

/**
 * Authenticates every {@code /v1/} request by its {@code Authorization: Bearer <key>} header; a
 * missing or unknown key gets 401 in OpenAI's error shape. Health, metrics and OpenAPI under {@code
 * /q/} stay open.
 */
@Provider
@Priority(Priorities.AUTHENTICATION)
public class ApiKeyFilter implements ContainerRequestFilter {
  private final ApiKeys keys;
  private final Caller caller;

  ApiKeyFilter(ApiKeys keys, Caller caller) {
    this.keys = keys;
    this.caller = caller;
  }

  @Override
  public void filter(ContainerRequestContext request) {
    String path = request.getUriInfo().getPath();
    if (!path.startsWith("/v1/") && !path.startsWith("v1/")) {
      return;
    }
    String header = request.getHeaderString("Authorization");
    if (header == null || !header.startsWith("Bearer ") || header.length() <= 7) {
      request.abortWith(
          OpenAiError.response(
              401,
              "invalid_request_error",
              "missing_api_key",
              "You didn't provide an API key: send Authorization: Bearer <key>",
              null));
      return;
    }
    keys.tenantOf(header.substring(7).strip())
        .ifPresentOrElse(
            caller::authenticate,
            () ->
                request.abortWith(
                    OpenAiError.response(
                        401,
                        "invalid_request_error",
                        "invalid_api_key",
                        "Incorrect API key provided",
                        null)));
  }
}
