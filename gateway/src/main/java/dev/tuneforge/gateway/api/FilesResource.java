package dev.tuneforge.gateway.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tuneforge.gateway.auth.Caller;
import dev.tuneforge.platform.api.OpenAiError;
import dev.tuneforge.platform.storage.ArtifactWriter;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.Manifest;
import dev.tuneforge.platform.storage.ObjectStore;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/**
 * {@code /v1/files}, as in the OpenAI API: upload a dataset (multipart, {@code purpose=fine-tune}),
 * list, read and delete the tenant's files. A file is stored under {@code
 * files/{tenant}/{file-id}/} by its generated id, never by its name; the name is kept as metadata
 * and refused if it tries to look like a path.
 */
@Path("/v1/files")
@Produces(MediaType.APPLICATION_JSON)
public class FilesResource {
  static final Pattern FILE_ID = Pattern.compile("file-[a-f0-9]{24}");
  static final Pattern SAFE_NAME = Pattern.compile("[\\p{L}\\p{N} ._()+=,@-]{1,255}");

  /** An OpenAI file object. */
  public record FileObject(
      String id,
      String object,
      long bytes,
      @JsonProperty("created_at") long createdAt,
      String filename,
      String purpose,
      String status) {}

  /** The answer to a delete. */
  public record Deleted(String id, String object, boolean deleted) {}

  private final ObjectStore store;
  private final Artifacts artifacts;
  private final Caller caller;
  private final long maxBytes;

  FilesResource(
      ObjectStore store,
      Artifacts artifacts,
      Caller caller,
      dev.tuneforge.gateway.config.GatewayConfig config) {
    this.store = store;
    this.artifacts = artifacts;
    this.caller = caller;
    this.maxBytes = config.maxUploadBytes();
  }

  /** Bucket prefix of a tenant's file. */
  public static String prefix(String tenant, String fileId) {
    return "files/" + tenant + "/" + fileId + "/";
  }

  @POST
  @Consumes(MediaType.MULTIPART_FORM_DATA)
  public FileObject upload(@RestForm("file") FileUpload file, @RestForm("purpose") String purpose) {
    if (file == null) {
      throw OpenAiError.invalid("file", "a multipart field \"file\" is required");
    }
    if (purpose == null || !purpose.equals("fine-tune")) {
      throw OpenAiError.invalid(
          "purpose",
          "purpose must be \"fine-tune\" but was "
              + (purpose == null ? "missing" : "\"" + purpose + "\""));
    }
    String name = file.fileName() == null ? "" : file.fileName();
    if (!SAFE_NAME.matcher(name).matches() || name.contains("..") || name.startsWith(".")) {
      throw OpenAiError.invalid(
          "file",
          "file name \""
              + name
              + "\" is not allowed: use letters, digits, spaces and ._()+=,@- only, no path");
    }
    if (file.size() > maxBytes) {
      throw OpenAiError.tooLarge(
          "file is " + file.size() + " bytes, over the limit of " + maxBytes + " bytes");
    }
    if (file.size() == 0) {
      throw OpenAiError.invalid("file", "file is empty");
    }
    String id = "file-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    long createdAt = Instant.now().getEpochSecond();
    try (ArtifactWriter writer = artifacts.begin(prefix(caller.tenant(), id));
        InputStream in = Files.newInputStream(file.uploadedFile())) {
      writer.put("content", in, file.size(), "application/octet-stream");
      writer.commit(
          Map.of(
              "filename",
              name,
              "purpose",
              purpose,
              "bytes",
              Long.toString(file.size()),
              "created_at",
              Long.toString(createdAt)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the upload " + name, e);
    }
    return new FileObject(id, "file", file.size(), createdAt, name, purpose, "processed");
  }

  @GET
  public FineTuningJobsResource.ListResponse<FileObject> list() {
    List<FileObject> files =
        artifacts.committedUnder("files/" + caller.tenant() + "/").stream()
            .map(FilesResource::fileObject)
            .sorted(Comparator.comparingLong(FileObject::createdAt).reversed())
            .toList();
    return new FineTuningJobsResource.ListResponse<>("list", files, false);
  }

  @GET
  @Path("/{id}")
  public FileObject get(@PathParam("id") String id) {
    return fileObject(manifest(id));
  }

  /**
   * The file's bytes, as uploaded ({@code GET /v1/files/{id}/content}, OpenAI's retrieve), as
   * application/octet-stream whatever the Accept header (the OpenAI SDK asks for {@code
   * application/binary}).
   */
  @GET
  @Path("/{id}/content")
  @jakarta.ws.rs.Produces(MediaType.WILDCARD)
  public jakarta.ws.rs.core.Response content(@PathParam("id") String id) {
    Manifest manifest = manifest(id);
    String key = prefix(caller.tenant(), id) + "content";
    jakarta.ws.rs.core.StreamingOutput body =
        out -> {
          try (java.io.InputStream in = store.get(key)) {
            in.transferTo(out);
          }
        };
    String name = manifest.metadata().getOrDefault("filename", id).replaceAll("[\"\\\\\r\n]", "_");
    return jakarta.ws.rs.core.Response.ok(body, MediaType.APPLICATION_OCTET_STREAM)
        .header("Content-Disposition", "attachment; filename=\"" + name + "\"")
        .build();
  }

  @DELETE
  @Path("/{id}")
  public Deleted delete(@PathParam("id") String id) {
    manifest(id);
    String prefix = prefix(caller.tenant(), id);
    // The manifest goes first, so readers stop seeing the file before its content disappears.
    store.delete(prefix + Manifest.FILE_NAME);
    store.deletePrefix(prefix);
    return new Deleted(id, "file", true);
  }

  private Manifest manifest(String id) {
    if (!FILE_ID.matcher(id).matches()) {
      throw OpenAiError.notFound("file_not_found", "No such file: " + id, "id");
    }
    return artifacts
        .manifest(prefix(caller.tenant(), id))
        .orElseThrow(() -> OpenAiError.notFound("file_not_found", "No such file: " + id, "id"));
  }

  private static FileObject fileObject(Manifest manifest) {
    Map<String, String> meta = manifest.metadata();
    String[] parts = manifest.prefix().split("/");
    return new FileObject(
        parts[parts.length - 1],
        "file",
        Long.parseLong(meta.getOrDefault("bytes", "0")),
        Long.parseLong(meta.getOrDefault("created_at", "0")),
        meta.getOrDefault("filename", ""),
        meta.getOrDefault("purpose", "fine-tune"),
        "processed");
  }

  /** Whether {@code fileId} is a committed file of {@code tenant}. */
  public static boolean exists(Artifacts artifacts, String tenant, String fileId) {
    return FILE_ID.matcher(fileId).matches()
        && artifacts.manifest(prefix(tenant, fileId)).isPresent();
  }
}
