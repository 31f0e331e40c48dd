package dev.tuneforge.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneforge.platform.storage.ArtifactWriter;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.MinioObjectStore;
import dev.tuneforge.proto.CloudEventHeaders;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.Topics;
import dev.tuneforge.proto.v1.JobStatusChanged;
import java.io.InputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The same event and storage contracts against the Kafka and MinIO images, for machines with a
 * Docker engine. Without one the class is reported as skipped, not failed.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerStackTest {
  @Container static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.2");

  @Container
  static final MinIOContainer MINIO =
      new MinIOContainer("minio/minio:RELEASE.2023-09-04T19-57-37Z");

  @Test
  void eventRoundTripsThroughTheKafkaImage() {
    JobStatusChanged event = SampleEvents.jobStatusChanged("tc-job-1");
    try (TestKafka kafka = new TestKafka(KAFKA.getBootstrapServers())) {
      String id = kafka.publish(event);
      var records =
          kafka.await(
              Topics.JOBS_STATUS,
              1,
              r -> TestKafka.header(r, CloudEventHeaders.ID).orElse("").equals(id));
      assertEquals("tc-job-1", records.get(0).key());
      assertEquals(
          event,
          dev.tuneforge.proto.EventCodec.parse(records.get(0).value(), JobStatusChanged.class));
    }
  }

  @Test
  void artefactCommitsAgainstTheMinioImage() throws Exception {
    MinioObjectStore store =
        MinioObjectStore.create(
            MINIO.getS3URL(), "us-east-1", MINIO.getUserName(), MINIO.getPassword(), "tuneforge");
    store.ensureBucket();
    Artifacts artifacts = new Artifacts(store);
    try (ArtifactWriter writer = artifacts.begin("jobs/tc/final/")) {
      writer.put("adapter_model.safetensors", new byte[] {1, 2, 3}, "application/octet-stream");
      writer.commit(Map.of());
    }
    try (InputStream in = artifacts.open("jobs/tc/final/", "adapter_model.safetensors")) {
      assertArrayEquals(new byte[] {1, 2, 3}, in.readAllBytes());
    }
  }
}
