package dev.tuneforge.proto;

import com.google.protobuf.Message;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka value deserializer for events: picks the message type from the {@code ce_type} header and
 * parses strictly. A record without {@code ce_type} or with an invalid value is an {@link
 * IllegalArgumentException} naming the header or field.
 */
public final class EventDeserializer implements Deserializer<Message> {

  @Override
  public Message deserialize(String topic, byte[] data) {
    throw new IllegalArgumentException(
        "record on " + topic + " has no headers; the ce_type header names the event type");
  }

  @Override
  public Message deserialize(String topic, Headers headers, byte[] data) {
    String ceType =
        CloudEventHeaders.read(headers, CloudEventHeaders.TYPE)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "record on " + topic + " has no ce_type header; it names the event type"));
    if (data == null) {
      return null;
    }
    return EventCodec.parse(new String(data, StandardCharsets.UTF_8), EventType.ofCeType(ceType));
  }
}
