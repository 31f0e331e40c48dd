package dev.tuneforge.platform.storage;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** A setting of {@code name=prefix/} pairs, comma-separated: models named by where they are. */
public final class NamedPrefixes {
  private NamedPrefixes() {}

  /** The pairs in their order; an entry without a name or a trailing slash is refused by name. */
  public static Map<String, String> parse(String property, Optional<String> value) {
    Map<String, String> parsed = new LinkedHashMap<>();
    for (String pair : value.orElse("").split(",")) {
      String trimmed = pair.strip();
      if (trimmed.isEmpty()) {
        continue;
      }
      int equals = trimmed.indexOf('=');
      if (equals <= 0 || !trimmed.endsWith("/")) {
        throw new IllegalArgumentException(
            property + " entries are name=prefix/ but one was \"" + trimmed + "\"");
      }
      parsed.put(trimmed.substring(0, equals), trimmed.substring(equals + 1));
    }
    return java.util.Collections.unmodifiableMap(parsed);
  }
}
