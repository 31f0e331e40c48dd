package dev.tuneforge.servers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker is stopped and restarted while a producer keeps sending. */
class KafkaServerRestartTest {
  private static final String TOPIC = "restart.test";

  @TempDir Path dataDir;

  @Test
  void noAcknowledgedEventIsLostWhenTheBrokerRestartsMidStream() throws Exception {
    try (KafkaServer kafka = KafkaServer.start(dataDir, 0, 0)) {
      Set<String> acknowledged = ConcurrentHashMap.newKeySet();
      List<Exception> failures = new CopyOnWriteArrayList<>();
      AtomicBoolean running = new AtomicBoolean(true);
      Thread producerThread =
          new Thread(() -> produceUntilStopped(kafka, running, acknowledged, failures));
      producerThread.start();

      awaitAtLeast(acknowledged, 50);
      kafka.stop();
      int beforeRestart = acknowledged.size();
      kafka.start();
      awaitAtLeast(acknowledged, beforeRestart + 50);
      running.set(false);
      producerThread.join(60_000);

      Set<String> consumed = consumeAll(kafka, acknowledged.size());
      assertTrue(beforeRestart >= 50, "events acknowledged before the restart: " + beforeRestart);
      assertTrue(acknowledged.size() > beforeRestart, "events acknowledged after the restart");
      Set<String> lost = new java.util.TreeSet<>(acknowledged);
      lost.removeAll(consumed);
      assertEquals(Set.of(), lost, "acknowledged events missing after the restart");
    }
  }

  private static void produceUntilStopped(
      KafkaServer kafka,
      AtomicBoolean running,
      Set<String> acknowledged,
      List<Exception> failures) {
    Map<String, Object> config =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true,
            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
            120_000,
            ProducerConfig.LINGER_MS_CONFIG,
            0);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
      for (int i = 0; running.get(); i++) {
        String value = "event-" + i;
        producer.send(
            new ProducerRecord<>(TOPIC, "job-1", value),
            (metadata, error) -> {
              if (error == null) {
                acknowledged.add(value);
              } else {
                failures.add(error);
              }
            });
        Ports.pause(5);
      }
      producer.flush();
    }
  }

  private static Set<String> consumeAll(KafkaServer kafka, int expected) {
    Map<String, Object> config =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "restart-check",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Set<String> values = new java.util.HashSet<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(TOPIC));
      Instant deadline = Instant.now().plusSeconds(60);
      while (values.size() < expected && Instant.now().isBefore(deadline)) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
          values.add(record.value());
        }
      }
    }
    return values;
  }

  private static void awaitAtLeast(Set<String> acknowledged, int count) {
    Instant deadline = Instant.now().plusSeconds(90);
    while (acknowledged.size() < count) {
      assertTrue(Instant.now().isBefore(deadline), "only " + acknowledged.size() + " acknowledged");
      Ports.pause(20);
    }
  }
}
