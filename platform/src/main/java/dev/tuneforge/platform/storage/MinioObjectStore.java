package dev.tuneforge.platform.storage;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link ObjectStore} on the MinIO Java SDK; works against MinIO, S3Proxy and AWS S3. */
public final class MinioObjectStore implements ObjectStore {
  /** Part size of multipart uploads: the most an upload of unknown size holds in memory. */
  static final long PART_SIZE = 8L * 1024 * 1024;

  private final MinioClient client;
  private final String bucket;

  public MinioObjectStore(MinioClient client, String bucket) {
    this.client = client;
    this.bucket = bucket;
  }

  /** A store for {@code bucket} at {@code endpoint} with static credentials. */
  public static MinioObjectStore create(
      String endpoint, String region, String accessKey, String secretKey, String bucket) {
    MinioClient client =
        MinioClient.builder()
            .endpoint(endpoint)
            .region(region)
            .credentials(accessKey, secretKey)
            .build();
    return new MinioObjectStore(client, bucket);
  }

  @Override
  public String bucket() {
    return bucket;
  }

  @Override
  public void ensureBucket() {
    if (!bucketExists()) {
      call(
          "create bucket",
          "",
          () -> {
            client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            return null;
          });
    }
  }

  @Override
  public boolean bucketExists() {
    return call(
        "check bucket",
        "",
        () -> client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build()));
  }

  @Override
  public void put(String key, InputStream data, long size, String contentType) {
    call(
        "put",
        key,
        () ->
            client.putObject(
                PutObjectArgs.builder().bucket(bucket).object(key).stream(
                        data, size, size < 0 ? PART_SIZE : -1)
                    .contentType(contentType)
                    .build()));
  }

  @Override
  public InputStream get(String key) {
    return call(
        "get",
        key,
        () -> client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build()));
  }

  @Override
  public Optional<ObjectInfo> stat(String key) {
    try {
      StatObjectResponse stat =
          client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
      return Optional.of(
          new ObjectInfo(
              key,
              stat.size(),
              stat.lastModified() == null ? 0 : stat.lastModified().toEpochSecond()));
    } catch (ErrorResponseException e) {
      if ("NoSuchKey".equals(e.errorResponse().code())) {
        return Optional.empty();
      }
      throw failure("stat", key, e);
    } catch (Exception e) {
      throw failure("stat", key, e);
    }
  }

  @Override
  public List<ObjectInfo> list(String prefix) {
    List<ObjectInfo> objects = new ArrayList<>();
    for (Item item : items(prefix, true)) {
      objects.add(
          new ObjectInfo(
              item.objectName(),
              item.size(),
              item.lastModified() == null ? 0 : item.lastModified().toEpochSecond()));
    }
    return objects;
  }

  @Override
  public List<String> listPrefixes(String prefix) {
    List<String> prefixes = new ArrayList<>();
    for (Item item : items(prefix, false)) {
      if (item.isDir()) {
        prefixes.add(item.objectName());
      }
    }
    return prefixes;
  }

  @Override
  public void delete(String key) {
    call(
        "delete",
        key,
        () -> {
          client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
          return null;
        });
  }

  private List<Item> items(String prefix, boolean recursive) {
    List<Item> items = new ArrayList<>();
    Iterable<Result<Item>> results =
        client.listObjects(
            ListObjectsArgs.builder().bucket(bucket).prefix(prefix).recursive(recursive).build());
    for (Result<Item> result : results) {
      items.add(call("list", prefix, result::get));
    }
    return items;
  }

  private interface StoreCall<T> {
    T run() throws Exception;
  }

  private <T> T call(String operation, String key, StoreCall<T> body) {
    try {
      return body.run();
    } catch (ErrorResponseException e) {
      if ("NoSuchKey".equals(e.errorResponse().code())) {
        throw new ObjectNotFoundException(bucket, key);
      }
      throw failure(operation, key, e);
    } catch (Exception e) {
      throw failure(operation, key, e);
    }
  }

  private StorageException failure(String operation, String key, Exception e) {
    return new StorageException(
        operation + " s3://" + bucket + "/" + key + " failed: " + e.getMessage(), e);
  }
}
