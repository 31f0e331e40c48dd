package dev.tuneforge.trainer.job;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.TrainingProgress;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A running job outlives an outage of 60 s of Kafka or of the object store: progress is kept by the
 * producer, checkpoint uploads retry with backoff, and the job succeeds with its final checkpoint
 * once the server is back.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class OutageTest {
  static final Duration OUTAGE = Duration.ofSeconds(60);
  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;

  @BeforeEach
  void model() throws Exception {
    store.ensureBucket();
    TrainingRunTest.seedTinyModel(store);
  }

  private String startJob(String name) {
    String jobId = name + "-" + UUID.randomUUID();
    DatasetPrepared prepared = TrainingRunTest.prepared(store, jobId, JobSpec.Method.LORA, 400);
    kafka.publish(prepared);
    kafka.awaitEvents(TrainingProgress.class, 1, p -> jobId.equals(p.getJobId()));
    return jobId;
  }

  private void awaitSucceeded(String jobId) {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofMinutes(4))
        .until(() -> store.stat("jobs/" + jobId + "/final/manifest.json").isPresent());
    assertTrue(
        kafka
            .readAll(
                dev.tuneforge.proto.Topics.JOBS_STATUS,
                r ->
                    jobId.equals(r.key())
                        && r.value().contains("\"" + JobStatusChanged.Status.FAILED.name() + "\""))
            .isEmpty(),
        "the job never failed");
    kafka.awaitEvents(
        dev.tuneforge.proto.v1.CheckpointSaved.class,
        1,
        c -> jobId.equals(c.getJobId()) && c.getIsFinal());
  }

  @Test
  void aKafkaOutageOf60SecondsDoesNotFailARunningJob() throws Exception {
    String jobId = startJob("kafka-outage");
    RealStackResource.kafka().stop();
    try {
      Thread.sleep(OUTAGE.toMillis());
    } finally {
      RealStackResource.kafka().start();
    }
    awaitSucceeded(jobId);
  }

  @Test
  void aStorageOutageOf60SecondsDoesNotFailARunningJob() throws Exception {
    String jobId = startJob("s3-outage");
    RealStackResource.s3().stop();
    try {
      Thread.sleep(OUTAGE.toMillis());
    } finally {
      RealStackResource.s3().start();
    }
    awaitSucceeded(jobId);
    assertTrue(
        !store.list("jobs/" + jobId + "/checkpoints/").isEmpty(), "checkpoints were committed");
  }
}
