package dev.tuneforge.platform.health;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.platform.storage.StorageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when the S3 endpoint answers and the bucket exists (it is created on first check). */
@Readiness
@ApplicationScoped
public class ObjectStoreReadiness implements HealthCheck {
  private final ObjectStore store;
  private final StorageConfig config;

  ObjectStoreReadiness(ObjectStore store, StorageConfig config) {
    this.store = store;
    this.config = config;
  }

  @Override
  public HealthCheckResponse call() {
    var response =
        HealthCheckResponse.named("object-store")
            .withData("endpoint", config.endpoint())
            .withData("bucket", config.bucket());
    try {
      store.ensureBucket();
      return response.up().build();
    } catch (RuntimeException e) {
      return response.down().withData("error", String.valueOf(e.getMessage())).build();
    }
  }
}
