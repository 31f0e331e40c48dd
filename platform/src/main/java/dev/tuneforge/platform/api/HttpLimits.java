package dev.tuneforge.platform.api;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The HTTP layer's own limits answer in OpenAI's shape instead of an empty body: a URL over {@value
 * #MAX_URI_CHARS} characters is 414 {@code uri_too_long}, a body over {@code
 * quarkus.http.limits.max-body-size} is 413 {@code request_too_large}, refused from its
 * Content-Length before it is read (and when a chunked body runs over, from the server's own
 * failure). A route before every other one.
 */
@ApplicationScoped
public class HttpLimits {
  /** The longest URL (path and query) answered. */
  public static final int MAX_URI_CHARS = 8192;

  private static final long DEFAULT_MAX_BODY = 10240L * 1024;

  void install(@Observes Router router) {
    long maxBody =
        ConfigProvider.getConfig()
            .getOptionalValue("quarkus.http.limits.max-body-size", MemorySize.class)
            .map(MemorySize::asLongValue)
            .orElse(DEFAULT_MAX_BODY);
    router
        .route()
        .order(Integer.MIN_VALUE)
        .handler(
            context -> {
              String uri = context.request().uri();
              if (uri.length() > MAX_URI_CHARS) {
                refuse(
                    context,
                    414,
                    "uri_too_long",
                    "the request URL has "
                        + uri.length()
                        + " characters; at most "
                        + MAX_URI_CHARS
                        + " are accepted");
                return;
              }
              String length = context.request().getHeader(HttpHeaders.CONTENT_LENGTH);
              if (length != null && length.chars().allMatch(Character::isDigit)) {
                long bytes = length.length() > 18 ? Long.MAX_VALUE : Long.parseLong(length);
                if (bytes > maxBody) {
                  refuse(context, 413, "request_too_large", tooLarge(bytes + " bytes", maxBody));
                  return;
                }
              }
              context.next();
            })
        .failureHandler(
            context -> {
              if (context.statusCode() == 413 && !context.response().headWritten()) {
                refuse(context, 413, "request_too_large", tooLarge("more bytes", maxBody));
              } else {
                context.next();
              }
            });
  }

  private static String tooLarge(String given, long maxBody) {
    return "the request body has "
        + given
        + " than the "
        + maxBody
        + " bytes accepted (quarkus.http.limits.max-body-size); upload large datasets with"
        + " POST /v1/files";
  }

  private static void refuse(RoutingContext context, int status, String code, String message) {
    context
        .response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        // The body is not read: the connection closes after the answer.
        .putHeader(HttpHeaders.CONNECTION, "close")
        .end(
            io.vertx.core.json.Json.encode(
                OpenAiError.body("invalid_request_error", code, message, null)));
  }
}
