package dev.tuneforge.platform.api;

import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.ext.Provider;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The credential between services. eval-service and reward-service are internal: with {@code
 * tuneforge.service-auth.required} every request but {@code /q/*} (health, metrics) must carry
 * {@code X-TuneForge-Service-Token} equal to {@code tuneforge.service-token}
 * (TUNEFORGE_SERVICE_TOKEN), which the gateway and the other services send. Callers are answered
 * 401 without it, and 503 while the service has no token configured, so an unconfigured service is
 * closed rather than open. The gateway also names the caller's tenant in {@code
 * X-TuneForge-Tenant}; a service trusts that header only on a request that holds the token.
 */
@Provider
@Priority(Priorities.AUTHENTICATION)
public class ServiceAuth implements ContainerRequestFilter {
  public static final String TOKEN_HEADER = "X-TuneForge-Service-Token";
  public static final String TENANT_HEADER = "X-TuneForge-Tenant";
  static final String TOKEN_KEY = "tuneforge.service-token";

  private final boolean required;
  private final Optional<String> token;

  ServiceAuth(
      @ConfigProperty(name = "tuneforge.service-auth.required", defaultValue = "false")
          boolean required,
      @ConfigProperty(name = TOKEN_KEY) Optional<String> token) {
    this.required = required;
    this.token = token.filter(t -> !t.isBlank());
  }

  /** The token to send to another service, if this one has it. */
  public static Optional<String> token() {
    return ConfigProvider.getConfig()
        .getOptionalValue(TOKEN_KEY, String.class)
        .filter(t -> !t.isBlank());
  }

  @Override
  public void filter(ContainerRequestContext request) {
    if (!required) {
      return;
    }
    String path = request.getUriInfo().getPath();
    if (path.startsWith("/q/") || path.startsWith("q/")) {
      return;
    }
    if (token.isEmpty()) {
      request.abortWith(
          OpenAiError.response(
              503,
              "server_error",
              "service_token_missing",
              "this internal service has no service token configured: set "
                  + TOKEN_KEY
                  + " (TUNEFORGE_SERVICE_TOKEN) here and on its callers",
              null));
      return;
    }
    String given = request.getHeaderString(TOKEN_HEADER);
    if (given == null
        || !MessageDigest.isEqual(
            given.getBytes(StandardCharsets.UTF_8), token.get().getBytes(StandardCharsets.UTF_8))) {
      request.abortWith(
          OpenAiError.response(
              401,
              "invalid_request_error",
              "invalid_service_token",
              "this is an internal service: requests need the service credential ("
                  + TOKEN_HEADER
                  + "); call it through the gateway",
              null));
    }
  }

  /** The tenant the gateway named on a request that passed this filter, if any. */
  public static Optional<String> tenant(String header) {
    return Optional.ofNullable(header).filter(t -> !t.isBlank());
  }
}
