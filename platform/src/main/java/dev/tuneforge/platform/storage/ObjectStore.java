package dev.tuneforge.platform.storage;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * One bucket of an S3-compatible store. Keys are bucket-relative ({@code
 * datasets/ds-1/train.jsonl}). Failures of the store are {@link StorageException}s naming the key.
 */
public interface ObjectStore {

  /** Creates the bucket if it does not exist. Idempotent. */
  void ensureBucket();

  /** Whether the bucket exists; throws when the store cannot be reached. */
  boolean bucketExists();

  /** The bucket this store writes to. */
  String bucket();

  /**
   * Streams {@code data} to {@code key}. {@code size} may be -1 when unknown: the upload is then
   * multipart, so an object of any size never needs to fit in memory.
   */
  void put(String key, InputStream data, long size, String contentType);

  /** Writes a small object from memory. */
  default void put(String key, byte[] data, String contentType) {
    put(key, new ByteArrayInputStream(data), data.length, contentType);
  }

  /** Opens {@code key} for streaming; the caller closes the stream. */
  InputStream get(String key);

  /** Reads a small object fully. */
  default byte[] getBytes(String key) {
    try (InputStream in = get(key)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + key, e);
    }
  }

  /** Size and metadata of {@code key}, or empty when there is no such object. */
  Optional<ObjectInfo> stat(String key);

  /** Objects under {@code prefix}, recursively, in key order. */
  List<ObjectInfo> list(String prefix);

  /** Immediate "sub-directories" of {@code prefix} (keys ending in {@code /}), in key order. */
  List<String> listPrefixes(String prefix);

  /** Deletes {@code key}; deleting a missing key is not an error. */
  void delete(String key);

  /** Deletes every object under {@code prefix}. */
  default void deletePrefix(String prefix) {
    for (ObjectInfo object : list(prefix)) {
      delete(object.key());
    }
  }

  /** An object's key and size in bytes. */
  /**
   * @param lastModified when the object was written, in seconds since the epoch (0 when unknown)
   */
  record ObjectInfo(String key, long size, long lastModified) {
    public ObjectInfo(String key, long size) {
      this(key, size, 0);
    }
  }
}
