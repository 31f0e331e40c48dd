package dev.tuneforge.platform.messaging;

import com.google.protobuf.Message;
import dev.tuneforge.proto.CloudEventHeaders;
import dev.tuneforge.proto.EventType;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Metadata;

/**
 * Publishes events with the job id (or correlation id) as the record key and fresh CloudEvents
 * headers naming this service as the source. The returned stage completes when the broker
 * acknowledged the record.
 */
@ApplicationScoped
public class EventPublisher {
  private final String source;
  private final MeterRegistry metrics;

  EventPublisher(
      @ConfigProperty(name = "quarkus.application.name") String service, MeterRegistry metrics) {
    this.source = "/tuneforge/" + service;
    this.metrics = metrics;
  }

  /** Sends {@code event} through {@code emitter}, whose channel writes the event's topic. */
  public <T extends Message> CompletionStage<Void> publish(Emitter<T> emitter, T event) {
    EventType type = EventType.of(event);
    RecordHeaders headers = new RecordHeaders();
    CloudEventHeaders.write(headers, CloudEventHeaders.Attributes.create(type, source));
    OutgoingKafkaRecordMetadata<String> kafka =
        OutgoingKafkaRecordMetadata.<String>builder()
            .withKey(type.keyOf(event))
            .withHeaders(headers)
            .build();
    CompletableFuture<Void> acknowledged = new CompletableFuture<>();
    emitter.send(
        org.eclipse.microprofile.reactive.messaging.Message.of(
            event,
            Metadata.of(kafka),
            () -> {
              acknowledged.complete(null);
              return CompletableFuture.completedFuture(null);
            },
            error -> {
              acknowledged.completeExceptionally(error);
              return CompletableFuture.completedFuture(null);
            }));
    metrics.counter("tuneforge.events.published", "topic", type.topic()).increment();
    return acknowledged;
  }
}
