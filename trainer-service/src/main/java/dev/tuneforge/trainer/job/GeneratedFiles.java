package dev.tuneforge.trainer.job;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.proto.v1.JobSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The data a generation job wrote (Self-Instruct, Constitutional AI) as files of its tenant: each
 * JSONL its manifest lists goes to {@code files/{tenant}/{file-id}/content}, committed with the
 * metadata the gateway's {@code /v1/files} shows ({@code purpose} fine-tune), so it can be the
 * training file of a later job. A file's id is derived from the job and the file's name, so a job
 * registered again after a crash writes the same files, not new ones.
 */
final class GeneratedFiles {
  /** Uploads a directory under a prefix, committed by its manifest last. */
  @FunctionalInterface
  interface Upload {
    void apply(Path dir, String prefix, Map<String, String> metadata);
  }

  private GeneratedFiles() {}

  /** The id the gateway's files API knows {@code name} of {@code jobId} by. */
  static String fileId(String jobId, String name) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest((jobId + "/" + name).getBytes(StandardCharsets.UTF_8));
      return "file-" + HexFormat.of().formatHex(digest).substring(0, 24);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Registers every file of the finished output in {@code finalDir}; their ids, in order. */
  static List<String> register(JobSpec spec, Path finalDir, Path staging, Upload upload) {
    JsonObject manifest;
    try {
      manifest =
          JsonParser.parseString(Files.readString(finalDir.resolve("manifest.json")))
              .getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException("the generation left no manifest in " + finalDir, e);
    }
    List<String> ids = new ArrayList<>();
    for (String name : manifest.getAsJsonObject("files").keySet()) {
      String id = fileId(spec.getJobId(), name);
      Path dir = staging.resolve(id);
      try {
        Files.createDirectories(dir);
        Files.copy(
            finalDir.resolve(name),
            dir.resolve("content"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        upload.apply(
            dir,
            "files/" + spec.getTenant() + "/" + id + "/",
            Map.of(
                "filename", spec.getJobId() + "-" + name,
                "purpose", "fine-tune",
                "bytes", Long.toString(Files.size(dir.resolve("content"))),
                "created_at", Long.toString(Instant.now().getEpochSecond()),
                "job_id", spec.getJobId()));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot stage " + name + " as a file", e);
      }
      ids.add(id);
    }
    return ids;
  }
}
