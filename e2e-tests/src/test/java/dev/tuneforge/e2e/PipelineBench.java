package dev.tuneforge.e2e;

import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.proto.EventCodec;
import dev.tuneforge.proto.Topics;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.RewardItem;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.RewardScores;
import dev.tuneforge.proto.v1.TrainingProgress;
import dev.tuneforge.testing.TestKafka;
import io.restassured.http.ContentType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline benchmark ({@code bash tools/bench/pipeline-bench.sh}; never part of the tests): on
 * the packaged services and real servers it measures, from the events' broker timestamps, the time
 * from a job request to its first training step and each stage's duration, then reward-service's
 * throughput (scores/s over Kafka request/reply, a 23M-parameter reward model) with one replica and
 * with two. Figures go to stdout and {@code e2e-tests/target/pipeline-bench.txt}; nothing is
 * asserted about them.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class PipelineBench {
  @TempDir static Path home;

  @Test
  void measure() throws Exception {
    StringBuilder report = new StringBuilder();
    try (E2eStack stack = new E2eStack(home)) {
      // The judge: a reward model of the 23M-parameter train-bench shape, so scoring is real work.
      Path large = home.resolve("llama-23m");
      dev.tuneforge.llm.checkpoint.TinyLlama.write(
          large, 1, new dev.tuneforge.llm.checkpoint.TinyLlama.Size(512, 8, 8, 4, 1376));
      Path judge = home.resolve("judge-rm");
      try (LlamaModel backbone = LlamaModel.load(large, Compute.CPU_FLOAT32, Projections.DENSE);
          RewardModel model = RewardModel.fromCausalLm(backbone, 7)) {
        model.save(judge, large);
      }
      stack.putDirectory(judge, "models/judge-rm/");
      // One libtorch thread per replica, as under a 1-CPU limit: replicas then scale over cores.
      Map<String, String> rewards =
          Map.of(
              "TUNEFORGE_REWARD_MODELS",
              "judge=models/judge-rm/",
              "JAVA_TOOL_OPTIONS",
              "-Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1");
      stack.start("reward-service-a", "reward-service", rewards);
      for (String service : List.of("data-service", "trainer-service", "eval-service")) {
        stack.start(service);
      }
      stack.start("gateway", "gateway", Map.of("TUNEFORGE_SERVING_URL", stack.url("eval-service")));
      pipeline(stack, report);
      report.append('\n');
      throughput(stack, "one replica", report);
      stack.start("reward-service-b", "reward-service", rewards);
      throughput(stack, "two replicas", report);
    }
    String text = report.toString();
    System.out.print(text);
    Path out = E2eStack.logFile("x").getParent().getParent().resolve("pipeline-bench.txt");
    Files.writeString(out, text);
  }

  /** One LoRA job of the demo, through the gateway; stage times from broker timestamps. */
  private void pipeline(E2eStack stack, StringBuilder report) throws Exception {
    String data = Files.readString(Path.of("../examples/parity.jsonl"));
    String file = stack.upload("parity.jsonl", data);
    String request =
        Files.readString(Path.of("../examples/demo-job.json"))
            .replace("$FILE", file)
            .replace("\"logging_steps\": 10", "\"logging_steps\": 1");
    long requested = System.currentTimeMillis();
    String job =
        stack
            .api()
            .contentType(ContentType.JSON)
            .body(request)
            .post("/v1/fine_tuning/jobs")
            .then()
            .statusCode(200)
            .extract()
            .path("id");
    stack.topics.awaitEvents(
        JobStatusChanged.class,
        1,
        s -> job.equals(s.getJobId()) && s.getStatus() == JobStatusChanged.Status.SUCCEEDED);
    long prepared = statusTime(stack, job, JobStatusChanged.Status.QUEUED);
    long training = statusTime(stack, job, JobStatusChanged.Status.TRAINING);
    long evaluating = statusTime(stack, job, JobStatusChanged.Status.EVALUATING);
    long succeeded = statusTime(stack, job, JobStatusChanged.Status.SUCCEEDED);
    List<ConsumerRecord<String, String>> progress =
        stack.topics.readAll(
            Topics.TRAINING_PROGRESS,
            r -> TestKafka.is(r, TrainingProgress.class, p -> job.equals(p.getJobId())));
    long firstStep = progress.stream().mapToLong(ConsumerRecord::timestamp).min().orElseThrow();
    long steps =
        progress.stream()
            .mapToLong(r -> EventCodec.parse(r.value(), TrainingProgress.class).getStep())
            .max()
            .orElseThrow();
    report.append(
        String.format(
            "pipeline: LoRA SFT of examples/demo-job.json (600 records, %d steps), packaged"
                + " services, real Kafka and S3%n",
            steps));
    row(report, "request -> first training step", firstStep - requested);
    row(report, "  request -> dataset prepared (validate, split, commit)", prepared - requested);
    row(report, "  prepared -> training started (queue, base model copy)", training - prepared);
    row(report, "  training started -> first step (load, tokenize)", firstStep - training);
    row(report, "training (first step -> last)", evaluating - firstStep);
    row(report, "evaluation (base and tuned, 60 test records)", succeeded - evaluating);
    row(report, "request -> succeeded", succeeded - requested);
  }

  private static long statusTime(E2eStack stack, String job, JobStatusChanged.Status status) {
    return stack
        .topics
        .readAll(
            Topics.JOBS_STATUS,
            r ->
                TestKafka.is(
                    r,
                    JobStatusChanged.class,
                    s -> job.equals(s.getJobId()) && s.getStatus() == status))
        .stream()
        .mapToLong(ConsumerRecord::timestamp)
        .min()
        .orElseThrow(() -> new IllegalStateException(job + " never reached " + status));
  }

  private static void row(StringBuilder report, String name, long millis) {
    report.append(String.format("  %-58s %8.2f s%n", name, millis / 1000.0));
  }

  /**
   * Requests of 8 (prompt, response) pairs published as fast as the producer goes; scores/s is the
   * items answered over the time from the first request to the last reply.
   */
  private void throughput(E2eStack stack, String label, StringBuilder report) {
    String run = UUID.randomUUID().toString().substring(0, 8);
    // Warm-up: every replica's consumers assigned and its model loaded.
    send(stack, "warm-" + run, 64);
    awaitReplies(stack, "warm-" + run, 64);
    int requests = 150;
    long start = System.currentTimeMillis();
    send(stack, "tp-" + run, requests);
    List<ConsumerRecord<String, String>> replies = awaitReplies(stack, "tp-" + run, requests);
    long end = replies.stream().mapToLong(ConsumerRecord::timestamp).max().orElseThrow();
    double seconds = (end - start) / 1000.0;
    report.append(
        String.format(
            "reward-service, %s (1 thread each): %d requests x 8 items in %.2f s = %.0f"
                + " scores/s%n",
            label, requests, seconds, requests * 8 / seconds));
  }

  private static void send(E2eStack stack, String prefix, int count) {
    for (int i = 0; i < count; i++) {
      RewardRequest.Builder request =
          RewardRequest.newBuilder()
              .setCorrelationId(prefix + "-" + i)
              .setRewardModel("judge")
              .setReplyTo("bench");
      for (int j = 0; j < 8; j++) {
        request.addItems(
            RewardItem.newBuilder()
                .setPrompt("Is " + (i * 8 + j) + " even or odd?")
                .setResponse(j % 2 == 0 ? " even" : " odd"));
      }
      stack.topics.publish(request.build());
    }
  }

  private static List<ConsumerRecord<String, String>> awaitReplies(
      E2eStack stack, String prefix, int count) {
    Predicate<ConsumerRecord<String, String>> mine =
        r ->
            TestKafka.is(r, RewardScores.class, s -> s.getCorrelationId().startsWith(prefix + "-"));
    Set<String> seen = new HashSet<>();
    List<ConsumerRecord<String, String>>[] found = new List[1];
    Awaitility.await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              found[0] = stack.topics.readAll(Topics.REWARD_SCORES, mine);
              seen.clear();
              found[0].forEach(
                  r ->
                      seen.add(EventCodec.parse(r.value(), RewardScores.class).getCorrelationId()));
              return seen.size() >= count;
            });
    return found[0];
  }
}
