package dev.tuneforge.platform.api;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * A request to a URL no endpoint serves answers a JSON 404 in OpenAI's shape ({@code unknown_url})
 * instead of the server's HTML page: a route after every other one, reached only when no endpoint,
 * health or metrics route took the request.
 */
@ApplicationScoped
public class UnknownRoutes {
  void install(@Observes Router router) {
    router
        .route()
        .last()
        .handler(
            context -> {
              String message =
                  "Unknown request URL: "
                      + context.request().method()
                      + " "
                      + context.request().path();
              context
                  .response()
                  .setStatusCode(404)
                  .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                  .end(
                      io.vertx.core.json.Json.encode(
                          OpenAiError.body("invalid_request_error", "unknown_url", message, null)));
            });
  }
}
