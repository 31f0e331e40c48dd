package dev.tuneforge.servers.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.servers.Ports;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code ./tuneforge stack} commands, run in-process against real child processes. */
class TuneforgeTest {
  @TempDir Path home;
  private final int kafkaPort = Ports.free();
  private final int controllerPort = Ports.free();
  private final int s3Port = Ports.free();

  @AfterEach
  void stopEverything() {
    run("down");
  }

  @Test
  void stackUpStatusDownAndDataSurvivesARestart() throws Exception {
    Result up = stackUp();
    assertEquals(0, up.exitCode(), up.err());
    assertTrue(up.out().contains("kafka up: 127.0.0.1:" + kafkaPort), up.out());
    assertTrue(up.out().contains("s3 up: http://127.0.0.1:" + s3Port), up.out());
    assertTrue(
        run("stack", "status").out().matches("(?s).*kafka\\s+running\\s+port " + kafkaPort + ".*"));

    produce("kept across restarts");
    assertEquals(0, run("stack", "down").exitCode());
    assertTrue(run("stack", "status").out().matches("(?s).*kafka\\s+stopped.*"));
    assertTrue(!Ports.isOpen(kafkaPort) && !Ports.isOpen(s3Port), "ports released after down");

    assertEquals(0, stackUp().exitCode());
    assertEquals(List.of("kept across restarts"), consumeAll());
  }

  @Test
  void publishValidatesTheFileAndPublishesItWithCloudEventsHeaders() throws Exception {
    assertEquals(0, stackUp().exitCode());
    Path bad = home.resolve("bad.json");
    java.nio.file.Files.writeString(bad, "{\"job_id\":\"j\",\"status\":\"DONE\"}");
    Result refused = run("publish", "jobs.status", bad.toString());
    assertEquals(1, refused.exitCode());
    assertTrue(refused.err().contains("bad.json: JobStatusChanged.status: "), refused.err());

    Path good = home.resolve("good.json");
    java.nio.file.Files.writeString(good, "{\"job_id\":\"job-9\",\"status\":\"QUEUED\"}");
    Result published = run("publish", "jobs.status", good.toString());
    assertEquals(0, published.exitCode(), published.err());
    ConsumerRecord<String, String> record = consume("jobs.status").get(0);
    assertEquals("job-9", record.key());
    assertEquals(
        "dev.tuneforge.JobStatusChanged.v1",
        new String(
            record.headers().lastHeader("ce_type").value(),
            java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void stackUpOnABusyPortFailsWithAClearMessage() throws Exception {
    try (ServerSocket busy = new ServerSocket(kafkaPort)) {
      Result up = stackUp();
      assertEquals(1, up.exitCode());
      assertTrue(
          up.err()
              .contains("tuneforge: kafka cannot start: port " + kafkaPort + " is already in use"),
          up.err());
    }
  }

  private Result stackUp() {
    return run(
        "stack",
        "up",
        "--kafka-port=" + kafkaPort,
        "--kafka-controller-port=" + controllerPort,
        "--s3-port=" + s3Port);
  }

  private record Result(int exitCode, String out, String err) {}

  private Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var commandLine = Tuneforge.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    String[] withHome = new String[args.length + 2];
    withHome[0] = "--home";
    withHome[1] = home.toString();
    System.arraycopy(args, 0, withHome, 2, args.length);
    int exitCode = commandLine.execute(withHome);
    return new Result(exitCode, out.toString(), err.toString());
  }

  private void produce(String value) throws Exception {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + kafkaPort),
            new StringSerializer(),
            new StringSerializer())) {
      producer.send(new ProducerRecord<>("stack.check", "k", value)).get();
    }
  }

  private List<String> consumeAll() {
    return consume("stack.check").stream().map(ConsumerRecord::value).toList();
  }

  private List<ConsumerRecord<String, String>> consume(String topic) {
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + kafkaPort,
                ConsumerConfig.GROUP_ID_CONFIG, "stack-check",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
            new StringDeserializer(),
            new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        List<ConsumerRecord<String, String>> records = new java.util.ArrayList<>();
        consumer.poll(Duration.ofMillis(500)).forEach(records::add);
        if (!records.isEmpty()) {
          return records;
        }
      }
      return List.of();
    }
  }
}
