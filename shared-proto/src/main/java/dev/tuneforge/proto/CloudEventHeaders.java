package dev.tuneforge.proto;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * CloudEvents 1.0 Kafka protocol binding, binary mode: the event attributes travel as {@code ce_*}
 * record headers and the record value is the event data (proto3 JSON).
 */
public final class CloudEventHeaders {
  public static final String ID = "ce_id";
  public static final String TYPE = "ce_type";
  public static final String SOURCE = "ce_source";
  public static final String TIME = "ce_time";
  public static final String SPEC_VERSION = "ce_specversion";
  public static final String CONTENT_TYPE = "content-type";
  public static final String SPEC_VERSION_1_0 = "1.0";
  public static final String JSON = "application/json";

  private CloudEventHeaders() {}

  /** Attributes of one event. */
  public record Attributes(String id, String type, String source, Instant time) {

    /** New attributes with a random id and the current time for an event of {@code type}. */
    public static Attributes create(EventType type, String source) {
      return new Attributes(UUID.randomUUID().toString(), type.ceType(), source, Instant.now());
    }
  }

  /** Writes the attributes as headers, replacing any present. */
  public static void write(Headers headers, Attributes attributes) {
    put(headers, ID, attributes.id());
    put(headers, TYPE, attributes.type());
    put(headers, SOURCE, attributes.source());
    put(headers, TIME, attributes.time().toString());
    put(headers, SPEC_VERSION, SPEC_VERSION_1_0);
    put(headers, CONTENT_TYPE, JSON);
  }

  /** The last value of header {@code name}, if present. */
  public static Optional<String> read(Headers headers, String name) {
    Header header = headers == null ? null : headers.lastHeader(name);
    if (header == null || header.value() == null) {
      return Optional.empty();
    }
    return Optional.of(new String(header.value(), StandardCharsets.UTF_8));
  }

  private static void put(Headers headers, String name, String value) {
    headers.remove(name);
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
