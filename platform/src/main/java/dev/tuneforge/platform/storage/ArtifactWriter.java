package dev.tuneforge.platform.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Writes the files of one artefact, then commits it with {@link #commit}. Closing an uncommitted
 * writer deletes what it wrote, so use it in try-with-resources.
 */
public final class ArtifactWriter implements AutoCloseable {
  private final ObjectStore store;
  private final String prefix;
  private final List<Manifest.FileEntry> files = new ArrayList<>();
  private boolean committed;

  ArtifactWriter(ObjectStore store, String prefix) {
    this.store = store;
    this.prefix = prefix;
  }

  /** Streams one file of the artefact; {@code size} may be -1 when unknown. */
  public void put(String name, InputStream data, long size, String contentType) {
    requireOpen();
    requireName(name);
    MessageDigest sha256 = sha256();
    CountingStream counted = new CountingStream(new DigestInputStream(data, sha256));
    store.put(prefix + name, counted, size, contentType);
    files.add(
        new Manifest.FileEntry(name, counted.count, HexFormat.of().formatHex(sha256.digest())));
  }

  /** Writes one small file from memory. */
  public void put(String name, byte[] data, String contentType) {
    put(name, new java.io.ByteArrayInputStream(data), data.length, contentType);
  }

  /** Writes the manifest, which makes the artefact visible to readers. */
  public Manifest commit(Map<String, String> metadata) {
    requireOpen();
    Manifest manifest =
        new Manifest(
            Manifest.FORMAT,
            prefix,
            Instant.now().toString(),
            List.copyOf(files),
            Map.copyOf(metadata));
    try {
      store.put(
          prefix + Manifest.FILE_NAME,
          Artifacts.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest),
          "application/json");
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write manifest of " + prefix, e);
    }
    committed = true;
    return manifest;
  }

  /** Deletes every file written so far. */
  public void abort() {
    if (!committed) {
      for (Manifest.FileEntry file : files) {
        store.delete(prefix + file.name());
      }
      files.clear();
    }
  }

  @Override
  public void close() {
    abort();
  }

  private void requireOpen() {
    if (committed) {
      throw new IllegalStateException("artefact " + prefix + " is already committed");
    }
  }

  private static void requireName(String name) {
    if (name == null
        || name.isBlank()
        || name.startsWith("/")
        || name.contains("..")
        || name.equals(Manifest.FILE_NAME)) {
      throw new IllegalArgumentException(
          "artefact file name must be relative, without '..', and not "
              + Manifest.FILE_NAME
              + ", but was \""
              + name
              + "\"");
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Counts the bytes read through it. */
  private static final class CountingStream extends FilterInputStream {
    long count;

    CountingStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
