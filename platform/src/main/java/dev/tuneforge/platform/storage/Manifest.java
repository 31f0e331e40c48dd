package dev.tuneforge.platform.storage;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code manifest.json} that commits a multi-object artefact (a dataset's splits, a
 * checkpoint). It is written last: a prefix without one is incomplete and readers ignore it.
 *
 * @param format always {@link #FORMAT}
 * @param prefix the artefact's prefix, ending in {@code /}
 * @param createdAt ISO-8601 time of the commit
 * @param files every object of the artefact, names relative to the prefix
 * @param metadata free-form labels (step, job id, kind ...)
 */
public record Manifest(
    String format,
    String prefix,
    @JsonProperty("created_at") String createdAt,
    List<FileEntry> files,
    Map<String, String> metadata) {
  public static final String FORMAT = "tuneforge.manifest.v1";
  public static final String FILE_NAME = "manifest.json";

  /** One object of the artefact with its size and SHA-256 (hex). */
  public record FileEntry(String name, long size, String sha256) {}

  /** The entry of file {@code name}, if the artefact has it. */
  public Optional<FileEntry> file(String name) {
    return files.stream().filter(f -> f.name().equals(name)).findFirst();
  }
}
