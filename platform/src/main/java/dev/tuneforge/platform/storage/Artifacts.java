package dev.tuneforge.platform.storage;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Multi-object artefacts committed by a manifest written last. A writer puts the files, then the
 * manifest; readers only see prefixes that have one, so a crash mid-write never leaves something
 * that looks whole. A committed artefact is immutable.
 */
public final class Artifacts {
  static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final ObjectStore store;

  public Artifacts(ObjectStore store) {
    this.store = store;
  }

  /**
   * Starts writing an artefact at {@code prefix}. Leftovers of an earlier write that never
   * committed are removed first; a committed artefact is refused.
   */
  public ArtifactWriter begin(String prefix) {
    requirePrefix(prefix);
    if (manifest(prefix).isPresent()) {
      throw new IllegalStateException(
          "an artefact is already committed at " + prefix + "; committed artefacts are immutable");
    }
    store.deletePrefix(prefix);
    return new ArtifactWriter(store, prefix);
  }

  /** The manifest of the artefact at {@code prefix}, or empty if it is not committed. */
  public Optional<Manifest> manifest(String prefix) {
    requirePrefix(prefix);
    String key = prefix + Manifest.FILE_NAME;
    if (store.stat(key).isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(store.getBytes(key), Manifest.class));
    } catch (IOException e) {
      throw new StorageException("manifest " + key + " is not valid JSON: " + e.getMessage(), e);
    }
  }

  /** The committed artefacts directly under {@code parent}, e.g. every checkpoint of a job. */
  public List<Manifest> committedUnder(String parent) {
    requirePrefix(parent);
    List<Manifest> committed = new ArrayList<>();
    for (String prefix : store.listPrefixes(parent)) {
      manifest(prefix).ifPresent(committed::add);
    }
    return committed;
  }

  /** Opens file {@code name} of the committed artefact at {@code prefix}. */
  public InputStream open(String prefix, String name) {
    Manifest manifest =
        manifest(prefix)
            .orElseThrow(
                () ->
                    new ObjectNotFoundException(
                        store.bucket(),
                        prefix + " (no " + Manifest.FILE_NAME + ": not committed)"));
    if (manifest.file(name).isEmpty()) {
      throw new ObjectNotFoundException(store.bucket(), prefix + name + " (not in the manifest)");
    }
    return store.get(prefix + name);
  }

  static void requirePrefix(String prefix) {
    if (prefix == null || prefix.isEmpty() || !prefix.endsWith("/") || prefix.startsWith("/")) {
      throw new IllegalArgumentException(
          "artefact prefix must be a relative key ending in '/' but was \"" + prefix + "\"");
    }
  }
}
