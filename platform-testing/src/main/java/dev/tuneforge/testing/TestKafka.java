package dev.tuneforge.testing;

import com.google.protobuf.Message;
import dev.tuneforge.proto.CloudEventHeaders;
import dev.tuneforge.proto.EventCodec;
import dev.tuneforge.proto.EventType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;

/**
 * A plain Kafka client for tests: publishes events the way any producer would (proto3 JSON and
 * CloudEvents headers) or raw records, and waits with a deadline for records on a topic.
 */
public final class TestKafka implements AutoCloseable {
  /** How long a test waits for a record to appear. */
  public static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final String bootstrapServers;
  private final KafkaProducer<String, String> producer;

  public TestKafka(String bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.LINGER_MS_CONFIG,
                0),
            new StringSerializer(),
            new StringSerializer());
  }

  private static TestKafka shared;

  /**
   * The client of the stack started by {@link RealStackResource}, one per test JVM, closed when the
   * JVM exits.
   */
  public static synchronized TestKafka shared() {
    if (shared == null) {
      shared = new TestKafka(RealStackResource.kafka().bootstrapServers());
      Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
    }
    return shared;
  }

  /** Publishes {@code event} with a fresh {@code ce_id}; returns that id. */
  public String publish(Message event) {
    String id = UUID.randomUUID().toString();
    publish(event, id);
    return id;
  }

  /** Publishes {@code event} with the given {@code ce_id}, e.g. twice to test dedup. */
  public void publish(Message event, String ceId) {
    EventType type = EventType.of(event);
    RecordHeaders headers = new RecordHeaders();
    CloudEventHeaders.write(
        headers, new CloudEventHeaders.Attributes(ceId, type.ceType(), "/test", Instant.now()));
    send(
        new ProducerRecord<>(
            type.topic(), null, type.keyOf(event), EventCodec.toJson(event), headers));
  }

  /** Publishes a raw value with no headers, as a console producer would. */
  public void publishRaw(String topic, String key, String value) {
    send(new ProducerRecord<>(topic, key, value));
  }

  /** Waits until {@code count} records on {@code topic} match, and returns them. */
  public List<ConsumerRecord<String, String>> await(
      String topic, int count, Predicate<ConsumerRecord<String, String>> match) {
    List<ConsumerRecord<String, String>> found = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = consumer()) {
      List<TopicPartition> partitions = new ArrayList<>();
      Awaitility.await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                consumer
                    .partitionsFor(topic)
                    .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
                return !partitions.isEmpty();
              });
      readUntil(consumer, partitions, match, found, () -> found.size() >= count);
    }
    return found;
  }

  /** Waits for {@code count} events of {@code type} that match, parsed. */
  @SuppressWarnings("unchecked")
  public <T extends Message> List<T> awaitEvents(Class<T> type, int count, Predicate<T> match) {
    EventType eventType = EventType.ofClass(type);
    return await(eventType.topic(), count, r -> match.test(EventCodec.parse(r.value(), type)))
        .stream()
        .map(r -> (T) EventCodec.parse(r.value(), type))
        .toList();
  }

  /** Waits for job {@code jobId} to be published in {@code status}; returns that change. */
  public dev.tuneforge.proto.v1.JobStatusChanged awaitStatus(
      String jobId, dev.tuneforge.proto.v1.JobStatusChanged.Status status) {
    return awaitEvents(
            dev.tuneforge.proto.v1.JobStatusChanged.class,
            1,
            s -> jobId.equals(s.getJobId()) && s.getStatus() == status)
        .get(0);
  }

  /** All records on {@code topic} that match, read to the current end of the topic. */
  public List<ConsumerRecord<String, String>> readAll(
      String topic, Predicate<ConsumerRecord<String, String>> match) {
    List<ConsumerRecord<String, String>> found = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = consumer()) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      readUntil(
          consumer,
          partitions,
          match,
          found,
          () -> partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p)));
    }
    return found;
  }

  /** Reads {@code partitions} from the beginning, collecting matches, until {@code done}. */
  private static void readUntil(
      KafkaConsumer<String, String> consumer,
      List<TopicPartition> partitions,
      Predicate<ConsumerRecord<String, String>> match,
      List<ConsumerRecord<String, String>> found,
      java.util.function.BooleanSupplier done) {
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Awaitility.await()
        .atMost(TIMEOUT)
        .pollDelay(Duration.ZERO)
        .until(
            () -> {
              for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                if (match.test(record)) {
                  found.add(record);
                }
              }
              return done.getAsBoolean();
            });
  }

  /** The value of header {@code name} of {@code record}, if present. */
  public static Optional<String> header(ConsumerRecord<?, ?> record, String name) {
    return CloudEventHeaders.read(record.headers(), name);
  }

  /** Whether {@code record}'s value is an event of {@code type} for which {@code match} holds. */
  public static <T extends Message> boolean is(
      ConsumerRecord<String, String> record, Class<T> type, Predicate<T> match) {
    try {
      return match.test(EventCodec.parse(record.value(), type));
    } catch (IllegalArgumentException notThisType) {
      return false;
    }
  }

  @Override
  public void close() {
    producer.close();
  }

  private void send(ProducerRecord<String, String> record) {
    try {
      producer.send(record).get();
    } catch (Exception e) {
      throw new IllegalStateException("could not publish to " + record.topic(), e);
    }
  }

  private KafkaConsumer<String, String> consumer() {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            ConsumerConfig.GROUP_ID_CONFIG,
            "test-reader-" + UUID.randomUUID(),
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false),
        new StringDeserializer(),
        new StringDeserializer());
  }
}
