package dev.tuneforge.platform.storage;

import dev.tuneforge.servers.S3Server;
import java.nio.file.Files;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Starts one real S3 server (S3Proxy process) for a test class; each test gets a fresh bucket. */
final class S3TestServer implements BeforeAllCallback, AfterAllCallback {
  private S3Server server;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    server = S3Server.start(Files.createTempDirectory("s3-"), 0);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    server.stop();
  }

  /** A store on a new, empty bucket. */
  MinioObjectStore newStore() {
    MinioObjectStore store = store(S3Server.SECRET_KEY, "test-" + UUID.randomUUID());
    store.ensureBucket();
    return store;
  }

  MinioObjectStore store(String secretKey, String bucket) {
    return MinioObjectStore.create(
        server.endpoint(), "us-east-1", S3Server.ACCESS_KEY, secretKey, bucket);
  }
}
