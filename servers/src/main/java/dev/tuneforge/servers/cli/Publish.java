package dev.tuneforge.servers.cli;

import com.google.protobuf.Message;
import dev.tuneforge.proto.CloudEventHeaders;
import dev.tuneforge.proto.EventCodec;
import dev.tuneforge.proto.EventSerializer;
import dev.tuneforge.proto.EventType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ./tuneforge publish TOPIC FILE}: validate an event file and publish it like a service. */
@Command(
    mixinStandardHelpOptions = true,
    name = "publish",
    description =
        "Publish the event in FILE (proto3 JSON) on TOPIC with CloudEvents headers, keyed by its job"
            + " id. The file is parsed strictly first; an invalid one is refused naming the field.")
final class Publish implements Callable<Integer> {
  @ParentCommand Tuneforge parent;

  @Parameters(index = "0", description = "Topic, e.g. training.requests.")
  String topic;

  @Parameters(index = "1", description = "JSON file holding one event.")
  Path file;

  @CommandLine.Option(
      names = "--bootstrap-servers",
      description = "Kafka to publish to (default: the local stack's).")
  String bootstrapServers;

  @Override
  public Integer call() throws Exception {
    EventType type =
        Arrays.stream(EventType.values())
            .filter(t -> t.topic().equals(topic))
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "topic \""
                            + topic
                            + "\" carries no TuneForge event; one of "
                            + dev.tuneforge.proto.Topics.ALL));
    Message event;
    try {
      event = EventCodec.parse(Files.readString(file), type);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
    String servers =
        bootstrapServers != null ? bootstrapServers : parent.stack().bootstrapServers();
    Map<String, Object> config =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            servers,
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.MAX_BLOCK_MS_CONFIG,
            15_000,
            EventSerializer.SOURCE_CONFIG,
            "/tuneforge/cli");
    try (KafkaProducer<String, Message> producer =
        new KafkaProducer<>(config, new StringSerializer(), new EventSerializer())) {
      ProducerRecord<String, Message> record =
          new ProducerRecord<>(topic, type.keyOf(event), event);
      RecordMetadata written = producer.send(record).get();
      String id = CloudEventHeaders.read(record.headers(), CloudEventHeaders.ID).orElse("?");
      parent
          .spec
          .commandLine()
          .getOut()
          .printf(
              "published %s key %s to %s-%d@%d (ce_id %s)%n",
              type.ceType(), record.key(), topic, written.partition(), written.offset(), id);
    }
    return 0;
  }
}
