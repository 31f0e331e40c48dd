package dev.tuneforge.data.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** data-service settings ({@code tuneforge.data.*}). */
@ConfigMapping(prefix = "tuneforge.data")
public interface DataConfig {
  /** Local copy of each base model's tokenizer files. */
  @WithDefault("${java.io.tmpdir}/tuneforge-data/models")
  String modelCache();

  /** Largest training or validation file accepted, in bytes. */
  @WithDefault("536870912")
  long maxFileBytes();

  /** Problems listed in a failed job's reason; the total is always given. */
  @WithDefault("100")
  int maxReportedProblems();
}
