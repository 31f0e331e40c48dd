package dev.tuneforge.trainer.job;

import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * A job's checkpoints as committed under {@code jobs/{id}/checkpoints/} (each a manifest with its
 * {@code step}): listed oldest first, for the retention limit, and the newest fetched back, for a
 * job that resumes on another replica.
 */
final class CommittedCheckpoints {
  private CommittedCheckpoints() {}

  /** The job's committed checkpoints, by step, oldest first. */
  static List<Manifest> byStep(Artifacts artifacts, String jobId) {
    return artifacts.committedUnder("jobs/" + jobId + "/checkpoints/").stream()
        .sorted(Comparator.comparingLong(m -> Long.parseLong(m.metadata().get("step"))))
        .toList();
  }

  /**
   * Copies the job's newest committed checkpoint to {@code out/checkpoint-<step>} and returns it,
   * or null when there is none.
   */
  static Path fetchNewest(Artifacts artifacts, String jobId, Path out) {
    List<Manifest> saved = byStep(artifacts, jobId);
    if (saved.isEmpty()) {
      return null;
    }
    Manifest newest = saved.get(saved.size() - 1);
    Path dir = out.resolve("checkpoint-" + newest.metadata().get("step"));
    try {
      for (Manifest.FileEntry file : newest.files()) {
        Path target = dir.resolve(file.name());
        Files.createDirectories(target.getParent());
        try (InputStream in = artifacts.open(newest.prefix(), file.name())) {
          Files.copy(in, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fetch checkpoint " + newest.prefix(), e);
    }
    return dir;
  }
}
