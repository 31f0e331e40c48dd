package dev.tuneforge.proto;

import com.google.protobuf.Message;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka value serializer for events: proto3 JSON, plus CloudEvents headers when the producer did
 * not set them. Configure {@code ce.source} (default {@code /tuneforge}) to name the producer.
 */
public final class EventSerializer implements Serializer<Message> {
  /** Producer config key naming the CloudEvents source. */
  public static final String SOURCE_CONFIG = "ce.source";

  private String source = "/tuneforge";

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    Object configured = configs.get(SOURCE_CONFIG);
    if (configured != null) {
      source = configured.toString();
    }
  }

  @Override
  public byte[] serialize(String topic, Message event) {
    return event == null ? null : EventCodec.toJson(event).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public byte[] serialize(String topic, Headers headers, Message event) {
    if (event != null && headers.lastHeader(CloudEventHeaders.ID) == null) {
      CloudEventHeaders.write(
          headers, CloudEventHeaders.Attributes.create(EventType.of(event), source));
    }
    return serialize(topic, event);
  }
}
