package dev.tuneforge.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * gateway settings ({@code tuneforge.gateway.*}). Per-tenant limits are {@link
 * dev.tuneforge.platform.config.TenantLimits}.
 */
@ConfigMapping(prefix = "tuneforge.gateway")
public interface GatewayConfig {
  /**
   * API keys and the tenant each acts for: {@code key=tenant} pairs separated by commas (in
   * Kubernetes, an environment variable from a Secret).
   */
  String apiKeys();

  /** Largest upload accepted by {@code POST /v1/files}, in bytes. */
  @WithDefault("104857600")
  long maxUploadBytes();

  /**
   * eval-service's URL for completions; unset, completions answer 503. {@code CompletionsProxy}
   * reads it again at each use: in tests it names a port known only once the server listens.
   */
  java.util.Optional<String> servingUrl();
}
