package dev.tuneforge.data.job;

import java.util.regex.Pattern;

/**
 * Where a job's files live in the bucket. A reference is an uploaded file id ({@code file-...},
 * stored by the gateway under {@code files/{tenant}/{id}/content}), an {@code s3://bucket/key} URL
 * of this bucket, or a bucket-relative key. Keys with {@code ..}, a leading {@code /} or control
 * characters are refused, so no reference reaches outside the bucket's intended layout.
 */
public final class StoredFiles {
  static final Pattern FILE_ID = Pattern.compile("file-[A-Za-z0-9_-]{1,64}");
  static final Pattern SAFE_KEY = Pattern.compile("[A-Za-z0-9._\\-/=+ ]+");

  private StoredFiles() {}

  /** Bucket key of an uploaded file's content. */
  public static String uploadKey(String tenant, String fileId) {
    return "files/" + tenant + "/" + fileId + "/content";
  }

  /** Bucket prefix of an uploaded file (an artefact with a manifest). */
  public static String uploadPrefix(String tenant, String fileId) {
    return "files/" + tenant + "/" + fileId + "/";
  }

  /**
   * The bucket key a reference names.
   *
   * @param field the request field, for the error message
   * @throws IllegalArgumentException naming the field and the rule
   */
  public static String resolve(String reference, String tenant, String bucket, String field) {
    if (reference == null || reference.isBlank()) {
      throw new IllegalArgumentException(field + " is empty");
    }
    if (FILE_ID.matcher(reference).matches()) {
      return uploadKey(tenant, reference);
    }
    return bucketKey(reference, bucket, field);
  }

  private static String bucketKey(String reference, String bucket, String field) {
    String key = reference;
    if (reference.startsWith("s3://")) {
      String rest = reference.substring("s3://".length());
      int slash = rest.indexOf('/');
      String referencedBucket = slash < 0 ? rest : rest.substring(0, slash);
      if (!referencedBucket.equals(bucket)) {
        throw new IllegalArgumentException(
            field
                + " "
                + reference
                + " is in bucket \""
                + referencedBucket
                + "\"; this deployment reads bucket \""
                + bucket
                + "\"");
      }
      key = slash < 0 ? "" : rest.substring(slash + 1);
    }
    if (key.isEmpty()
        || key.startsWith("/")
        || key.endsWith("/")
        || !SAFE_KEY.matcher(key).matches()
        || key.equals("..")
        || key.startsWith("../")
        || key.contains("/../")
        || key.endsWith("/..")
        || key.contains("//")) {
      throw new IllegalArgumentException(
          field
              + " \""
              + reference
              + "\" is not a file id (file-...), an s3:// URL or a plain object key");
    }
    return key;
  }

  /** Bucket prefix of a base model: {@code models/{name}/}, or the prefix of an s3:// URL. */
  public static String modelPrefix(String name, String bucket) {
    String key =
        bucketKey(
            name.endsWith("/") ? name.substring(0, name.length() - 1) : name, bucket, "model");
    return (name.startsWith("s3://") ? key : "models/" + key) + "/";
  }
}
