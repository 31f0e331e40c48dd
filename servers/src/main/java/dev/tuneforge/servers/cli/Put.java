package dev.tuneforge.servers.cli;

import dev.tuneforge.servers.S3Server;
import io.minio.BucketExistsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.UploadObjectArgs;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ./tuneforge put SOURCE KEY}: copies a file, or a directory's files, into the local stack's
 * bucket. Registers a base model ({@code put /tmp/tiny models/tiny-llama}) or stages a dataset
 * ({@code put chat.jsonl uploads/acme/chat.jsonl}).
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "put",
    description =
        "Copy a file to KEY, or a directory's files under KEY/, in the local stack's S3 bucket.")
final class Put implements Callable<Integer> {
  @ParentCommand Tuneforge parent;

  @Parameters(index = "0", description = "File or directory to upload.")
  Path source;

  @Parameters(index = "1", description = "Object key (a prefix for a directory).")
  String key;

  @CommandLine.Option(
      names = "--bucket",
      defaultValue = "tuneforge",
      description = "Bucket (default: ${DEFAULT-VALUE}).")
  String bucket;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!Files.exists(source)) {
      throw new IllegalArgumentException(source + " does not exist");
    }
    if (key.startsWith("/") || key.contains("..")) {
      throw new IllegalArgumentException("key must be bucket-relative without '..' but was " + key);
    }
    MinioClient client =
        MinioClient.builder()
            .endpoint(parent.stack().s3Endpoint())
            .credentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY)
            .region("us-east-1")
            .build();
    if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
      client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
    }
    PrintWriter out = spec.commandLine().getOut();
    List<Path> files;
    if (Files.isDirectory(source)) {
      try (Stream<Path> walk = Files.walk(source)) {
        files = walk.filter(Files::isRegularFile).sorted().toList();
      }
    } else {
      files = List.of(source);
    }
    String prefix = key.endsWith("/") ? key.substring(0, key.length() - 1) : key;
    for (Path file : files) {
      String objectKey =
          Files.isDirectory(source)
              ? prefix + "/" + source.relativize(file).toString().replace('\\', '/')
              : key;
      client.uploadObject(
          UploadObjectArgs.builder()
              .bucket(bucket)
              .object(objectKey)
              .filename(file.toString())
              .build());
      out.println("put s3://" + bucket + "/" + objectKey + " (" + Files.size(file) + " bytes)");
    }
    out.flush();
    return 0;
  }
}
