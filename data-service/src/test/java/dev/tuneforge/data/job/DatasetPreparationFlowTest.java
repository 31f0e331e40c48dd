package dev.tuneforge.data.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.Manifest;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.DatasetRef;
import dev.tuneforge.proto.v1.DatasetSplit;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.ModelRef;
import dev.tuneforge.proto.v1.TrainingRequested;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A training request against the real Kafka broker and S3 server: the dataset is read from the
 * bucket, formatted with the base model's tokenizer and chat template, committed under {@code
 * datasets/{jobId}/} with its manifest last, and announced on {@code datasets.prepared}; a bad file
 * fails the job with line-precise reasons and writes nothing.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class DatasetPreparationFlowTest {
  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;
  @Inject Artifacts artifacts;

  @BeforeEach
  void seed() throws Exception {
    store.ensureBucket();
    Path dir = Files.createTempDirectory("tiny-tokenizer");
    TinyLlama.writeTokenizer(dir);
    for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
      store.put(
          "models/tiny-llama/" + file, Files.readAllBytes(dir.resolve(file)), "application/json");
    }
  }

  static String chat(int records) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < records; i++) {
      out.append("{\"messages\":[{\"role\":\"user\",\"content\":\"question ")
          .append(i)
          .append("\"},{\"role\":\"assistant\",\"content\":\"answer ")
          .append(i)
          .append("\"}]}\n");
    }
    return out.toString();
  }

  static TrainingRequested request(String jobId, String file, String model) {
    JobSpec spec =
        SampleEvents.jobSpec(jobId).toBuilder()
            .setBaseModel(ModelRef.newBuilder().setName(model))
            .setDataset(
                DatasetRef.newBuilder()
                    .setTrainingFile(file)
                    .setFormat(DatasetRef.Format.MESSAGES)
                    .setValidationSplit(0.1))
            .build();
    return SampleEvents.trainingRequested(jobId).toBuilder().setSpec(spec).build();
  }

  /**
   * Files uploaded through the API (stored as {@code files/{tenant}/{id}/content} with their name
   * in the manifest) are read by the layout of that name: a CSV and a JSON array upload are
   * prepared as such, not as JSONL.
   */
  @Test
  void csvAndJsonArrayUploadsAreReadByTheirUploadedName() throws Exception {
    StringBuilder csv = new StringBuilder("prompt,completion\n");
    StringBuilder array = new StringBuilder("[");
    for (int i = 0; i < 20; i++) {
      csv.append("\"What is ").append(i).append(", twice?\",\"").append(2 * i).append("\"\n");
      array
          .append(i == 0 ? "" : ",")
          .append("{\"prompt\": \"Say ")
          .append(i)
          .append("\", \"completion\": \"")
          .append(i)
          .append("\"}");
    }
    array.append("]");
    Map<String, String> uploads = Map.of("qa.csv", csv.toString(), "qa.json", array.toString());
    for (Map.Entry<String, String> upload : uploads.entrySet()) {
      String fileId = "file-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
      try (var writer = artifacts.begin("files/acme/" + fileId + "/")) {
        writer.put(
            "content",
            upload.getValue().getBytes(StandardCharsets.UTF_8),
            "application/octet-stream");
        writer.commit(Map.of("filename", upload.getKey(), "purpose", "fine-tune"));
      }
      String jobId = "job-" + UUID.randomUUID();
      JobSpec spec =
          SampleEvents.jobSpec(jobId).toBuilder()
              .setDataset(DatasetRef.newBuilder().setTrainingFile(fileId).setValidationSplit(0.1))
              .build();
      kafka.publish(SampleEvents.trainingRequested(jobId).toBuilder().setSpec(spec).build());
      DatasetPrepared prepared =
          kafka.awaitEvents(DatasetPrepared.class, 1, e -> jobId.equals(e.getJobId())).get(0);
      assertEquals(DatasetRef.Format.PROMPT_COMPLETION, prepared.getFormat(), upload.getKey());
      assertEquals(
          20L,
          prepared.getSplitsList().stream().mapToLong(DatasetSplit::getExamples).sum(),
          upload.getKey() + ": every row is a record");
    }
  }

  @Test
  void aRequestPreparesTheDatasetAndAnnouncesIt() {
    String jobId = "job-" + UUID.randomUUID();
    String file = "uploads/acme/" + jobId + ".jsonl";
    store.put(file, (chat(50) + chat(2)).getBytes(StandardCharsets.UTF_8), "application/x-ndjson");
    kafka.publish(request(jobId, file, "tiny-llama"));

    DatasetPrepared prepared =
        kafka.awaitEvents(DatasetPrepared.class, 1, e -> jobId.equals(e.getJobId())).get(0);
    Map<String, Long> counts =
        prepared.getSplitsList().stream()
            .collect(Collectors.toMap(DatasetSplit::getName, DatasetSplit::getExamples));
    assertEquals(Map.of("train", 40L, "validation", 5L, "test", 5L), counts);
    assertEquals(2, prepared.getDuplicatesRemoved(), "the two repeated records");
    assertEquals(DatasetRef.Format.MESSAGES, prepared.getFormat());
    String prefix = DatasetJobs.prefix(jobId);
    assertEquals(prefix + "manifest.json", prepared.getManifestKey());
    Manifest manifest = artifacts.manifest(prefix).orElseThrow();
    assertEquals("model:tiny-llama", manifest.metadata().get("chat_template"));
    String train = new String(store.getBytes(prefix + "train.jsonl"), StandardCharsets.UTF_8);
    assertEquals(40, train.lines().count());
    assertTrue(train.startsWith("{\"messages\":[{\"role\":\"user\",\"content\":\"question "));
    assertTrue(prepared.getTokenStatistics().getMaxTokens() > 0);

    JobStatusChanged summary =
        kafka
            .awaitEvents(
                JobStatusChanged.class,
                1,
                s -> jobId.equals(s.getJobId()) && s.getReason().startsWith("dataset prepared"))
            .get(0);
    assertTrue(summary.getReason().contains("52 records in; train 40, validation 5, test 5"));

    // Redelivered (a new ce_id, the same job): the committed dataset is announced again as is.
    kafka.publish(request(jobId, file, "tiny-llama"));
    List<DatasetPrepared> both =
        kafka.awaitEvents(DatasetPrepared.class, 2, e -> jobId.equals(e.getJobId()));
    assertEquals(both.get(0), both.get(1));
  }

  @Test
  void aBadFileFailsTheJobWithLinePreciseReasonsAndWritesNothing() {
    String jobId = "job-" + UUID.randomUUID();
    String file = "uploads/acme/" + jobId + ".jsonl";
    String bad =
        chat(1)
            + "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistent\",\"content\":\"yo\"}]}\n"
            + "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n";
    store.put(file, bad.getBytes(StandardCharsets.UTF_8), "application/x-ndjson");
    kafka.publish(request(jobId, file, "tiny-llama"));

    JobStatusChanged failed = kafka.awaitStatus(jobId, JobStatusChanged.Status.FAILED);
    assertEquals("invalid_training_file", failed.getError().getCode());
    assertEquals("training_file", failed.getError().getParam());
    assertEquals(
        "dataset rejected: 2 problems: training_file line 2: messages[1].role \"assistent\" is"
            + " not one of system|user|assistant|tool; training_file line 3: has no assistant"
            + " message to train on (none, or every weight is 0)",
        failed.getReason());
    assertTrue(store.list(DatasetJobs.prefix(jobId)).isEmpty(), "nothing half-written");
  }

  @Test
  void dataOptionsOfTheJobApply() {
    String jobId = "job-" + UUID.randomUUID();
    String file = "uploads/acme/" + jobId + ".jsonl";
    String data = chat(20) + "{\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}\n";
    store.put(file, data.getBytes(StandardCharsets.UTF_8), "application/x-ndjson");
    TrainingRequested request = request(jobId, file, "tiny-llama");
    JobSpec spec = request.getSpec();
    request =
        request.toBuilder()
            .setSpec(
                spec.toBuilder()
                    .setDataset(
                        spec.getDataset().toBuilder()
                            .setInvalidRecords("drop")
                            .setTestSplit(0)
                            .setChatTemplate("llama3")))
            .build();
    kafka.publish(request);
    DatasetPrepared prepared =
        kafka.awaitEvents(DatasetPrepared.class, 1, e -> jobId.equals(e.getJobId())).get(0);
    assertEquals(List.of("records dropped: {invalid=1}"), prepared.getWarningsList());
    Map<String, Long> counts =
        prepared.getSplitsList().stream()
            .collect(Collectors.toMap(DatasetSplit::getName, DatasetSplit::getExamples));
    assertEquals(Map.of("train", 18L, "validation", 2L, "test", 0L), counts);
    assertEquals(
        "llama3",
        artifacts
            .manifest(DatasetJobs.prefix(jobId))
            .orElseThrow()
            .metadata()
            .get("chat_template"));
  }

  @Test
  void aMissingFileOrModelFailsTheJobByName() {
    String jobId = "job-" + UUID.randomUUID();
    kafka.publish(request(jobId, "uploads/acme/nope.jsonl", "tiny-llama"));
    JobStatusChanged noFile = failure(jobId);
    assertEquals("file_not_found", noFile.getError().getCode());
    assertEquals(
        "training_file uploads/acme/nope.jsonl does not exist (uploads/acme/nope.jsonl)",
        noFile.getReason());

    String other = "job-" + UUID.randomUUID();
    String file = "uploads/acme/" + other + ".jsonl";
    store.put(file, chat(3).getBytes(StandardCharsets.UTF_8), "application/x-ndjson");
    kafka.publish(request(other, file, "no-such-model"));
    JobStatusChanged noModel = failure(other);
    assertEquals("model_not_found", noModel.getError().getCode());
    assertTrue(noModel.getReason().contains("models/no-such-model/tokenizer.json is missing"));
  }

  private JobStatusChanged failure(String jobId) {
    return kafka.awaitStatus(jobId, JobStatusChanged.Status.FAILED);
  }
}
