package dev.tuneforge.platform.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What one tenant may use ({@code tuneforge.limits.*}): defaults for every tenant, and overrides
 * per tenant under {@code tuneforge.limits.tenants.<tenant>.*}, e.g. {@code
 * tuneforge.limits.tenants.acme.jobs-in-flight=2}. The gateway enforces jobs in flight at create;
 * the trainer enforces steps (before training) and wall time (while training), so no job holds a
 * replica forever.
 */
@ConfigMapping(prefix = "tuneforge.limits")
public interface TenantLimits {
  /** Unfinished jobs a tenant may have; a create past it is refused with 429. */
  @WithDefault("8")
  int jobsInFlight();

  /** Optimizer steps one job may plan; a job planning more fails before training. */
  @WithDefault("1000000")
  long maxJobSteps();

  /** Wall time one job may train; past it the job is stopped and failed. */
  @WithDefault("PT24H")
  Duration maxJobDuration();

  /** Overrides by tenant id. */
  Map<String, Override> tenants();

  /** One tenant's overrides; what is unset falls back to the defaults above. */
  interface Override {
    OptionalInt jobsInFlight();

    OptionalLong maxJobSteps();

    Optional<Duration> maxJobDuration();
  }

  /** The limits that apply to a tenant. */
  default Limits of(String tenant) {
    Override override = tenants().get(tenant);
    if (override == null) {
      return new Limits(jobsInFlight(), maxJobSteps(), maxJobDuration(), false);
    }
    return new Limits(
        override.jobsInFlight().orElse(jobsInFlight()),
        override.maxJobSteps().orElse(maxJobSteps()),
        override.maxJobDuration().orElse(maxJobDuration()),
        true);
  }

  /**
   * One tenant's limits.
   *
   * @param ownSettings whether the tenant has overrides (messages name the key to change)
   */
  record Limits(int jobsInFlight, long maxJobSteps, Duration maxJobDuration, boolean ownSettings) {
    /** The key that sets a limit for this tenant, for messages. */
    public String key(String tenant, String name) {
      return ownSettings
          ? "tuneforge.limits.tenants." + tenant + "." + name
          : "tuneforge.limits." + name;
    }
  }
}
