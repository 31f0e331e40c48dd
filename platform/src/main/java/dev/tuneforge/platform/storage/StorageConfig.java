package dev.tuneforge.platform.storage;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Object storage settings ({@code tuneforge.storage.*}). */
@ConfigMapping(prefix = "tuneforge.storage")
public interface StorageConfig {
  /** S3 endpoint URL, e.g. {@code http://127.0.0.1:9000} (MinIO, S3Proxy) or an AWS endpoint. */
  @WithDefault("http://127.0.0.1:9000")
  String endpoint();

  /** Region sent in SigV4 signatures. */
  @WithDefault("us-east-1")
  String region();

  /** Access key; pass it as {@code ${TUNEFORGE_STORAGE_ACCESS_KEY}} outside a laptop. */
  String accessKey();

  /** Secret key; pass it as {@code ${TUNEFORGE_STORAGE_SECRET_KEY}} outside a laptop. */
  String secretKey();

  /** The one bucket holding datasets/, models/ and jobs/. */
  @WithDefault("tuneforge")
  String bucket();
}
