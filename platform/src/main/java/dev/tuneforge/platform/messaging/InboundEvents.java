package dev.tuneforge.platform.messaging;

import com.google.protobuf.Message;
import dev.tuneforge.proto.CloudEventHeaders;
import dev.tuneforge.proto.EventCodec;
import dev.tuneforge.proto.EventType;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * What every consumer does with a record: parse it strictly, require its CloudEvents headers
 * ({@code ce_id}, {@code ce_source}, {@code ce_type}, {@code ce_specversion}), drop a redelivered
 * {@code ce_id}, hand the event to the handler, then ack. A record that does not parse or validate,
 * or that the handler refuses, is nacked, so the channel's dead-letter strategy moves it to {@code
 * <topic>.dlq} with the reason in the {@code dead-letter-reason} header. It never blocks the
 * partition and is never silently dropped.
 */
@ApplicationScoped
public class InboundEvents {
  private static final Logger LOG = Logger.getLogger(InboundEvents.class);

  private final ProcessedEvents processed;
  private final MeterRegistry metrics;

  InboundEvents(ProcessedEvents processed, MeterRegistry metrics) {
    this.processed = processed;
    this.metrics = metrics;
  }

  /**
   * What a request-reply consumer answers for a record that did not parse or validate, before it
   * goes to the dead-letter topic: given what could be read of it ({@link EventCodec#salvage}) and
   * the reason, so its requester fails at once instead of timing out.
   */
  @FunctionalInterface
  public interface Refusal<T extends Message> {
    CompletionStage<?> answer(T salvaged, String reason);
  }

  /** Handles one record of channel {@code channel} carrying events of {@code type}. */
  public <T extends Message> CompletionStage<Void> handle(
      String channel,
      org.eclipse.microprofile.reactive.messaging.Message<String> record,
      Class<T> type,
      Function<Received<T>, CompletionStage<?>> handler) {
    return handle(channel, record, type, handler, null);
  }

  /**
   * As {@link #handle(String, org.eclipse.microprofile.reactive.messaging.Message, Class,
   * Function)}, and a record that does not parse or validate is first answered by {@code refusal}
   * (when what can be read of it is JSON of the type), then dead-lettered all the same.
   */
  public <T extends Message> CompletionStage<Void> handle(
      String channel,
      org.eclipse.microprofile.reactive.messaging.Message<String> record,
      Class<T> type,
      Function<Received<T>, CompletionStage<?>> handler,
      Refusal<T> refusal) {
    Optional<IncomingKafkaRecordMetadata<?, ?>> kafka = kafkaMetadata(record);
    String topic = kafka.map(IncomingKafkaRecordMetadata::getTopic).orElse(channel);
    String id = kafka.map(InboundEvents::eventId).orElse(null);
    CompletionStage<?> handled;
    T event;
    try {
      event = parse(record.getPayload(), type, kafka);
    } catch (RuntimeException e) {
      if (refusal == null) {
        return deadLetter(record, topic, id, e);
      }
      return answerRefused(record.getPayload(), type, refusal, e)
          .thenCompose(answered -> deadLetter(record, topic, id, e));
    }
    try {
      if (id != null && processed.contains(channel, id)) {
        count(topic, "duplicate");
        LOG.debugf("duplicate event %s on %s ignored", id, topic);
        return record.ack();
      }
      String source = kafka.flatMap(k -> header(k, CloudEventHeaders.SOURCE)).orElse("");
      String key = kafka.map(k -> String.valueOf(k.getKey())).orElse("");
      handled = handler.apply(new Received<>(id, source, key, event));
    } catch (RuntimeException e) {
      return deadLetter(record, topic, id, e);
    }
    return handled
        .handle((result, error) -> error)
        .thenCompose(
            error -> {
              if (error != null) {
                return deadLetter(record, topic, id, unwrap(error));
              }
              if (id != null) {
                processed.add(channel, id);
              }
              count(topic, "handled");
              return record.ack();
            });
  }

  private static <T extends Message> CompletionStage<Void> answerRefused(
      String payload, Class<T> type, Refusal<T> refusal, RuntimeException reason) {
    Optional<T> salvaged = EventCodec.salvage(payload, type);
    if (salvaged.isEmpty()) {
      return done();
    }
    CompletionStage<?> answer;
    try {
      answer = refusal.answer(salvaged.get(), reason.getMessage());
    } catch (RuntimeException e) {
      LOG.warnf("could not answer a refused record: %s", e.getMessage());
      return done();
    }
    return answer.handle(
        (ok, error) -> {
          if (error != null) {
            LOG.warnf("could not answer a refused record: %s", unwrap(error).getMessage());
          }
          return null;
        });
  }

  private CompletionStage<Void> deadLetter(
      org.eclipse.microprofile.reactive.messaging.Message<String> record,
      String topic,
      String id,
      Throwable reason) {
    count(topic, "dead_lettered");
    LOG.warnf("record %s on %s goes to the dead-letter topic: %s", id, topic, reason.getMessage());
    return record.nack(reason);
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null
        ? error.getCause()
        : error;
  }

  /** A handler's stage for work that completed synchronously. */
  public static CompletionStage<Void> done() {
    return CompletableFuture.completedFuture(null);
  }

  private static <T extends Message> T parse(
      String payload, Class<T> type, Optional<IncomingKafkaRecordMetadata<?, ?>> kafka) {
    EventType expected = EventType.ofClass(type);
    Optional<String> ceType = kafka.flatMap(k -> header(k, CloudEventHeaders.TYPE));
    if (ceType.isPresent() && !ceType.get().equals(expected.ceType())) {
      throw new IllegalArgumentException(
          "header ce_type is \""
              + ceType.get()
              + "\" but topic "
              + expected.topic()
              + " carries "
              + expected.ceType());
    }
    T event = EventCodec.parse(payload, type);
    if (kafka.isPresent()) {
      for (String required :
          new String[] {
            CloudEventHeaders.ID,
            CloudEventHeaders.SOURCE,
            CloudEventHeaders.TYPE,
            CloudEventHeaders.SPEC_VERSION
          }) {
        if (header(kafka.get(), required).filter(v -> !v.isBlank()).isEmpty()) {
          throw new IllegalArgumentException(
              "the record has no CloudEvents header "
                  + required
                  + " (every record needs ce_id, ce_source, ce_type and ce_specversion; ./tuneforge"
                  + " publish adds them)");
        }
      }
    }
    return event;
  }

  @SuppressWarnings("unchecked")
  private static Optional<IncomingKafkaRecordMetadata<?, ?>> kafkaMetadata(
      org.eclipse.microprofile.reactive.messaging.Message<String> record) {
    return record
        .getMetadata(IncomingKafkaRecordMetadata.class)
        .map(m -> (IncomingKafkaRecordMetadata<?, ?>) m);
  }

  private static String eventId(IncomingKafkaRecordMetadata<?, ?> kafka) {
    return header(kafka, CloudEventHeaders.ID)
        .orElse(kafka.getTopic() + "/" + kafka.getPartition() + "/" + kafka.getOffset());
  }

  private static Optional<String> header(IncomingKafkaRecordMetadata<?, ?> kafka, String name) {
    return CloudEventHeaders.read(kafka.getHeaders(), name);
  }

  private void count(String topic, String outcome) {
    // Every topic read also shows its dead-letter count, at zero until a record is refused.
    metrics.counter("tuneforge.events.received", "topic", topic, "outcome", "dead_lettered");
    metrics.counter("tuneforge.events.received", "topic", topic, "outcome", outcome).increment();
  }
}
