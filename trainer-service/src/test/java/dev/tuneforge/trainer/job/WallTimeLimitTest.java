package dev.tuneforge.trainer.job;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A job that runs past its tenant's wall-time limit (here two seconds for acme, set for that tenant
 * alone) is stopped and fails, naming the limit and the key that sets it.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
@TestProfile(WallTimeLimitTest.TwoSeconds.class)
class WallTimeLimitTest {
  public static final class TwoSeconds implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tuneforge.limits.tenants.acme.max-job-duration", "PT2S");
    }
  }

  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;

  @Test
  void aJobPastItsTimeLimitIsStoppedAndFails() throws Exception {
    store.ensureBucket();
    TrainingRunTest.seedTinyModel(store);
    String jobId = "slow-" + UUID.randomUUID();
    DatasetPrepared slow = TrainingRunTest.prepared(store, jobId, JobSpec.Method.LORA, 4900);
    kafka.publish(slow);
    JobStatusChanged failed = kafka.awaitStatus(jobId, JobStatusChanged.Status.FAILED);
    assertTrue(
        failed
            .getReason()
            .contains(
                "ran past tenant acme's time limit of PT2S"
                    + " (tuneforge.limits.tenants.acme.max-job-duration)"),
        failed.getReason());
    assertTrue(store.stat("jobs/" + jobId + "/final/manifest.json").isEmpty(), "no final model");
  }
}
