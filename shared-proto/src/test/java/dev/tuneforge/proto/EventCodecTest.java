package dev.tuneforge.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.TrainingRequested;
import org.junit.jupiter.api.Test;

class EventCodecTest {

  @Test
  void eventRoundTripsThroughJson() {
    TrainingRequested event = SampleEvents.trainingRequested("job-1");
    String json = EventCodec.toJson(event);

    assertTrue(json.contains("\"job_id\":\"job-1\""), json);
    assertTrue(json.contains("\"learning_rate\":2.0E-4"), json);
    assertEquals(event, EventCodec.parse(json, TrainingRequested.class));
  }

  @Test
  void camelCaseFieldNamesAreAcceptedAsProto3JsonAllows() {
    String json = "{\"jobId\":\"job-1\",\"status\":\"QUEUED\",\"service\":\"gateway\"}";
    JobStatusChanged event = EventCodec.parse(json, JobStatusChanged.class);
    assertEquals(JobStatusChanged.Status.QUEUED, event.getStatus());
  }

  @Test
  void unknownFieldIsRefusedByName() {
    String json = "{\"job_id\":\"job-1\",\"status\":\"QUEUED\",\"colour\":\"red\"}";
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> EventCodec.parse(json, JobStatusChanged.class));
    assertTrue(e.getMessage().startsWith("JobStatusChanged.colour: "), e.getMessage());
  }

  @Test
  void aRefusedRecordIsSalvagedForItsReplyButNeverWhenItIsNotJson() {
    String json =
        "{\"correlation_id\":\"c-1\",\"reply_to\":\"trainer-service\",\"items\":[],"
            + "\"colour\":\"red\"}";
    assertThrows(IllegalArgumentException.class, () -> EventCodec.parse(json, RewardRequest.class));
    RewardRequest salvaged = EventCodec.salvage(json, RewardRequest.class).orElseThrow();
    assertEquals("c-1", salvaged.getCorrelationId());
    assertEquals("trainer-service", salvaged.getReplyTo());
    assertTrue(EventCodec.salvage("{\"correlation_id\": 3", RewardRequest.class).isEmpty());
    assertTrue(EventCodec.salvage("[1]", RewardRequest.class).isEmpty());
    assertTrue(EventCodec.salvage("", RewardRequest.class).isEmpty());
  }

  @Test
  void missingRequiredNestedFieldIsNamedWithItsPath() {
    TrainingRequested event =
        SampleEvents.trainingRequested("job-1").toBuilder()
            .setSpec(SampleEvents.jobSpec("").toBuilder())
            .build();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> EventCodec.parse(EventCodec.toJson(event), TrainingRequested.class));
    assertEquals("TrainingRequested.spec.job_id is required but was empty", e.getMessage());
  }

  @Test
  void unsetRequiredEnumNamesTheAllowedValues() {
    String json = "{\"job_id\":\"job-1\"}";
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> EventCodec.parse(json, JobStatusChanged.class));
    assertTrue(
        e.getMessage()
            .startsWith(
                "JobStatusChanged.status is required but was STATUS_UNSPECIFIED; one of [QUEUED,"),
        e.getMessage());
  }

  @Test
  void wrongValueTypeIsRefusedWithTheFieldAndValue() {
    String json =
        EventCodec.toJson(SampleEvents.trainingRequested("job-1"))
            .replace("\"learning_rate\":2.0E-4", "\"learning_rate\":\"fast\"");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> EventCodec.parse(json, TrainingRequested.class));
    assertTrue(
        e.getMessage().startsWith("TrainingRequested.spec.hyperparameters.learning_rate: "),
        e.getMessage());
    assertTrue(e.getMessage().contains("fast"), e.getMessage());
  }

  @Test
  void invalidEnumValueIsRefusedByValue() {
    String json = "{\"job_id\":\"job-1\",\"status\":\"DONE\"}";
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> EventCodec.parse(json, JobStatusChanged.class));
    assertTrue(e.getMessage().startsWith("JobStatusChanged.status: "), e.getMessage());
    assertTrue(e.getMessage().contains("DONE"), e.getMessage());
  }

  @Test
  void emptyOrNonJsonValueIsRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> EventCodec.parse("  ", JobStatusChanged.class));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> EventCodec.parse("not json", JobStatusChanged.class));
    assertTrue(e.getMessage().startsWith("JobStatusChanged: "), e.getMessage());
  }

  @Test
  void recordKeyIsTheJobIdOrCorrelationId() {
    assertEquals(
        "job-7",
        EventType.of(SampleEvents.trainingRequested("job-7"))
            .keyOf(SampleEvents.trainingRequested("job-7")));
    assertEquals("corr-9", EventType.REWARD_REQUEST.keyOf(SampleEvents.rewardRequest("corr-9")));
  }

  @Test
  void everyEventTypeHasADistinctTopicOrCeType() {
    for (EventType type : EventType.values()) {
      assertEquals(type, EventType.ofCeType(type.ceType()));
      assertTrue(Topics.ALL.contains(type.topic()), type.topic());
    }
    assertEquals("training.requests.dlq", Topics.dlq(Topics.TRAINING_REQUESTS));
    assertThrows(IllegalArgumentException.class, () -> EventType.ofCeType("com.example.Other"));
  }

  @Test
  void identifiersThatCouldLeaveTheirPrefixAreRefusedByPath() {
    for (String id : new String[] {"../x", "a/b", ".hidden", "a..b", "x".repeat(129), "sp ace"}) {
      TrainingRequested event =
          SampleEvents.trainingRequested("x").toBuilder().setSpec(SampleEvents.jobSpec(id)).build();
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> EventCodec.parse(EventCodec.toJson(event), TrainingRequested.class));
      assertTrue(
          e.getMessage().startsWith("TrainingRequested.spec.job_id must be letters, digits"),
          e.getMessage());
    }
    EventCodec.parse(
        EventCodec.toJson(SampleEvents.trainingRequested("ftjob-0a1b.c_d")),
        TrainingRequested.class);
  }
}
