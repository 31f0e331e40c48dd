package dev.tuneforge.gateway.auth;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The API keys and the tenant each one acts for, from {@code tuneforge.gateway.api-keys}: {@code
 * key=tenant} pairs separated by commas (in Kubernetes, an environment variable from a Secret).
 * Keys are compared in constant time.
 */
@ApplicationScoped
public class ApiKeys {
  static final Pattern TENANT = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private final Map<String, String> tenants;

  ApiKeys(dev.tuneforge.gateway.config.GatewayConfig config) {
    this.tenants = parse(config.apiKeys());
  }

  static Map<String, String> parse(String configured) {
    Map<String, String> tenants = new LinkedHashMap<>();
    for (String pair : configured.split(",")) {
      String trimmed = pair.strip();
      if (trimmed.isEmpty()) {
        continue;
      }
      int equals = trimmed.lastIndexOf('=');
      if (equals <= 0 || equals == trimmed.length() - 1) {
        throw new IllegalArgumentException(
            "tuneforge.gateway.api-keys entries are key=tenant; one entry has no tenant");
      }
      String key = trimmed.substring(0, equals);
      String tenant = trimmed.substring(equals + 1);
      if (key.length() < 16) {
        throw new IllegalArgumentException(
            "tuneforge.gateway.api-keys: keys must have at least 16 characters (tenant "
                + tenant
                + ")");
      }
      if (!TENANT.matcher(tenant).matches()) {
        throw new IllegalArgumentException(
            "tuneforge.gateway.api-keys: tenant \"" + tenant + "\" must match " + TENANT.pattern());
      }
      tenants.put(key, tenant);
    }
    return Map.copyOf(tenants);
  }

  /** The tenant of {@code key}, if it is a configured key. */
  public Optional<String> tenantOf(String key) {
    String found = null;
    byte[] given = key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    for (Map.Entry<String, String> entry : tenants.entrySet()) {
      byte[] known = entry.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      if (java.security.MessageDigest.isEqual(known, given)) {
        found = entry.getValue();
      }
    }
    return Optional.ofNullable(found);
  }
}
