package dev.tuneforge.platform.storage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

/** Makes the configured {@link ObjectStore} and {@link Artifacts} injectable. */
@ApplicationScoped
public class ObjectStoreProducer {

  @Produces
  @ApplicationScoped
  ObjectStore objectStore(StorageConfig config) {
    return MinioObjectStore.create(
        config.endpoint(),
        config.region(),
        config.accessKey(),
        config.secretKey(),
        config.bucket());
  }

  @Produces
  @ApplicationScoped
  Artifacts artifacts(ObjectStore store) {
    return new Artifacts(store);
  }
}
