package dev.tuneforge.eval.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.EvalCompleted;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.MetricResult;
import dev.tuneforge.proto.v1.ModelRef;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A final checkpoint is scored with its base model on the job's test split: an adapter whose update
 * is zero (PEFT's initialisation) must score exactly as the base, the report lands under {@code
 * jobs/{id}/evals/}, and the job succeeds with the result's prefix.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class CheckpointEvaluatorTest {
  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;

  void put(Path dir, String prefix) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        store.put(
            prefix + dir.relativize(file), Files.readAllBytes(file), "application/octet-stream");
      }
    }
  }

  @Test
  void anUntrainedAdapterScoresExactlyAsItsBaseAndTheJobSucceeds() throws Exception {
    store.ensureBucket();
    String jobId = "eval-" + UUID.randomUUID();
    Path base = Files.createTempDirectory("eval-base");
    TinyLlama.write(base, 9, TinyLlama.Size.DEFAULT);
    put(base, "models/tiny-eval/");
    Path adapterDir = Files.createTempDirectory("eval-adapter");
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(8, 16, 0.0, LoraSettings.ALL_LINEAR, false), 1);
    try (LlamaModel model =
        LlamaModel.load(
            base, Compute.CPU_FLOAT32, adapter.projections(LlamaModel.Projections.DENSE))) {
      adapter.save(adapterDir, "tiny-eval");
    }
    put(adapterDir, "jobs/" + jobId + "/final/");
    StringBuilder test = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      test.append("{\"prompt\":\"the \",\"completion\":\"answer ").append(i).append("\"}\n");
    }
    store.put(
        "datasets/" + jobId + "/test.jsonl",
        test.toString().getBytes(StandardCharsets.UTF_8),
        "application/x-ndjson");

    CheckpointSaved last =
        SampleEvents.checkpointSaved(jobId).toBuilder()
            .setCheckpointId("final")
            .setObjectPrefix("jobs/" + jobId + "/final/")
            .setBaseModel(ModelRef.newBuilder().setName("tiny-eval"))
            .setSpec(SampleEvents.jobSpec(jobId))
            .setIsFinal(true)
            .build();
    kafka.publish(last);

    EvalCompleted eval =
        kafka.awaitEvents(EvalCompleted.class, 1, e -> jobId.equals(e.getJobId())).get(0);
    Map<String, MetricResult> metrics =
        eval.getMetricsList().stream().collect(Collectors.toMap(MetricResult::getName, m -> m));
    assertTrue(
        metrics
            .keySet()
            .containsAll(
                java.util.List.of("perplexity", "exact_match", "rouge1", "rougeL", "bleu")),
        "" + metrics.keySet());
    for (MetricResult metric : metrics.values()) {
      assertEquals(metric.getBaseValue(), metric.getCheckpointValue(), 1e-6, metric.getName());
    }
    assertTrue(metrics.get("perplexity").getCheckpointValue() > 1);
    assertEquals(6, eval.getSamples());
    String report = new String(store.getBytes(eval.getReportKey()), StandardCharsets.UTF_8);
    assertTrue(report.contains("\"max_new_tokens\""), report);
    JobStatusChanged done =
        kafka
            .awaitEvents(
                JobStatusChanged.class,
                1,
                s ->
                    jobId.equals(s.getJobId())
                        && s.getStatus() == JobStatusChanged.Status.SUCCEEDED)
            .get(0);
    assertEquals("jobs/" + jobId + "/final/", done.getResultPrefix());
    assertTrue(
        done.getReason().startsWith("evaluated on 6 test records: perplexity"), done.getReason());
  }
}
