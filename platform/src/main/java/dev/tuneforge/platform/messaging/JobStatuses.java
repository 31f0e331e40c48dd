package dev.tuneforge.platform.messaging;

import com.google.protobuf.util.Timestamps;
import dev.tuneforge.proto.v1.JobStatusChanged;

/** Builds the {@code jobs.status} facts services publish. */
public final class JobStatuses {
  private JobStatuses() {}

  /** A status change of {@code jobId} observed now by {@code service}, with the reason. */
  public static JobStatusChanged.Builder change(
      String jobId, String tenant, JobStatusChanged.Status status, String reason, String service) {
    return JobStatusChanged.newBuilder()
        .setJobId(jobId)
        .setTenant(tenant)
        .setStatus(status)
        .setReason(reason)
        .setService(service)
        .setTime(Timestamps.now());
  }
}
