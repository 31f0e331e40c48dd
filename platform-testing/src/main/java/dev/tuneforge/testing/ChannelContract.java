package dev.tuneforge.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import dev.tuneforge.proto.EventType;
import dev.tuneforge.proto.Topics;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Checks every consumer of a service must pass: a malformed record lands on the dead-letter topic
 * with the reason, and an event delivered twice with the same {@code ce_id} is handled once.
 */
public final class ChannelContract {
  /** The header SmallRye's dead-letter strategy writes the failure reason to. */
  public static final String DEAD_LETTER_REASON = "dead-letter-reason";

  private ChannelContract() {}

  /**
   * Asserts the service under test is ready (Kafka and object storage checks up) and that its
   * Prometheus endpoint counts events handled on {@code topic}.
   */
  public static void assertReadyAndCounting(String topic) {
    io.restassured.RestAssured.given()
        .get("/q/health/ready")
        .then()
        .statusCode(200)
        .body(org.hamcrest.Matchers.containsString("object-store"))
        .body(org.hamcrest.Matchers.containsString("Kafka"));
    String handled = "tuneforge_events_received_total{outcome=\"handled\",topic=\"" + topic + "\"}";
    org.awaitility.Awaitility.await()
        .atMost(TestKafka.TIMEOUT)
        .untilAsserted(
            () ->
                io.restassured.RestAssured.given()
                    .get("/q/metrics")
                    .then()
                    .statusCode(200)
                    .body(org.hamcrest.Matchers.containsString(handled)));
  }

  /**
   * Publishes {@code value} raw on {@code topic} and asserts it reaches {@code <topic>.dlq}, keyed
   * as sent, with a reason containing {@code expectedReason}. Returns the dead-lettered record.
   */
  public static ConsumerRecord<String, String> assertDeadLettered(
      TestKafka kafka, String topic, String value, String expectedReason) {
    String key = "bad-" + UUID.randomUUID();
    kafka.publishRaw(topic, key, value);
    ConsumerRecord<String, String> dead =
        kafka.await(Topics.dlq(topic), 1, r -> key.equals(r.key())).get(0);
    assertEquals(value, dead.value(), "the dead letter keeps the original value");
    String reason = TestKafka.header(dead, DEAD_LETTER_REASON).orElse("");
    assertTrue(
        reason.contains(expectedReason),
        "dead-letter-reason \"" + reason + "\" should contain \"" + expectedReason + "\"");
    return dead;
  }

  /**
   * Publishes {@code input(keyA)} twice with one {@code ce_id}, then {@code input(keyB)}. Once the
   * service's output for keyB appears (the partition is processed in order), asserts exactly one
   * output for keyA.
   *
   * @param input builds the incoming event for a job id (or correlation id)
   * @param outputType the event the service publishes in response
   * @param outputKey the job id (or correlation id) an output refers to
   */
  public static <O extends Message> void assertDuplicateHandledOnce(
      TestKafka kafka,
      Function<String, Message> input,
      Class<O> outputType,
      Function<O, String> outputKey) {
    String keyA = "dup-" + UUID.randomUUID();
    String keyB = "after-" + UUID.randomUUID();
    String ceId = UUID.randomUUID().toString();
    kafka.publish(input.apply(keyA), ceId);
    kafka.publish(input.apply(keyA), ceId);
    kafka.publish(input.apply(keyB));

    kafka.awaitEvents(outputType, 1, o -> keyB.equals(outputKey.apply(o)));
    String outputTopic = EventType.ofClass(outputType).topic();
    List<ConsumerRecord<String, String>> outputsForA =
        kafka.readAll(
            outputTopic, r -> TestKafka.is(r, outputType, o -> keyA.equals(outputKey.apply(o))));
    assertEquals(1, outputsForA.size(), "outputs for the event delivered twice with one ce_id");
  }
}
