package dev.tuneforge.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import dev.tuneforge.proto.v1.CheckpointSaved;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class EventSerdeTest {

  @Test
  void serializerAddsCloudEventsHeadersAndDeserializerReadsThemBack() {
    CheckpointSaved event = SampleEvents.checkpointSaved("job-3");
    RecordHeaders headers = new RecordHeaders();
    try (EventSerializer serializer = new EventSerializer();
        EventDeserializer deserializer = new EventDeserializer()) {
      serializer.configure(Map.of(EventSerializer.SOURCE_CONFIG, "/tuneforge/trainer"), false);
      byte[] value = serializer.serialize(Topics.CHECKPOINTS_SAVED, headers, event);

      assertEquals(
          "dev.tuneforge.CheckpointSaved.v1",
          CloudEventHeaders.read(headers, CloudEventHeaders.TYPE).orElseThrow());
      assertEquals(
          "/tuneforge/trainer",
          CloudEventHeaders.read(headers, CloudEventHeaders.SOURCE).orElseThrow());
      assertEquals(
          "1.0", CloudEventHeaders.read(headers, CloudEventHeaders.SPEC_VERSION).orElseThrow());
      assertTrue(CloudEventHeaders.read(headers, CloudEventHeaders.ID).isPresent());
      Instant.parse(CloudEventHeaders.read(headers, CloudEventHeaders.TIME).orElseThrow());

      Message back = deserializer.deserialize(Topics.CHECKPOINTS_SAVED, headers, value);
      assertEquals(event, back);
    }
  }

  @Test
  void serializerKeepsAnIdTheProducerChose() {
    RecordHeaders headers = new RecordHeaders();
    CloudEventHeaders.write(
        headers,
        new CloudEventHeaders.Attributes(
            "fixed-id", EventType.CHECKPOINT_SAVED.ceType(), "/test", Instant.EPOCH));
    try (EventSerializer serializer = new EventSerializer()) {
      serializer.serialize("t", headers, SampleEvents.checkpointSaved("job-3"));
    }
    assertEquals("fixed-id", CloudEventHeaders.read(headers, CloudEventHeaders.ID).orElseThrow());
  }

  @Test
  void deserializerRefusesARecordWithoutCeType() {
    try (EventDeserializer deserializer = new EventDeserializer()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  deserializer.deserialize(
                      "jobs.status", new RecordHeaders(), "{}".getBytes(StandardCharsets.UTF_8)));
      assertTrue(e.getMessage().contains("ce_type"), e.getMessage());
    }
  }
}
