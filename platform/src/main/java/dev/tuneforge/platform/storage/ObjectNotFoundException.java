package dev.tuneforge.platform.storage;

/** No object exists under the key. */
public class ObjectNotFoundException extends StorageException {
  public ObjectNotFoundException(String bucket, String key) {
    super("no object s3://" + bucket + "/" + key);
  }
}
