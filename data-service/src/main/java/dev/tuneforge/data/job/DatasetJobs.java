package dev.tuneforge.data.job;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.tuneforge.data.config.DataConfig;
import dev.tuneforge.data.prepare.DatasetKind;
import dev.tuneforge.data.prepare.DatasetPreparer;
import dev.tuneforge.data.prepare.DatasetStats;
import dev.tuneforge.data.prepare.InputReader;
import dev.tuneforge.data.prepare.PreparationOptions;
import dev.tuneforge.data.prepare.TokenLengths;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.platform.storage.ArtifactWriter;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.Manifest;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.EventCodec;
import dev.tuneforge.proto.JobSpecDefaults;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.DatasetRef;
import dev.tuneforge.proto.v1.DatasetSplit;
import dev.tuneforge.proto.v1.JobError;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.TokenStatistics;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Prepares a job's dataset: reads its files from the bucket, formats and validates them with the
 * base model's tokenizer and chat template, and commits the splits under {@code datasets/{jobId}/}
 * (train/validation/test.jsonl, stats.json, the DatasetPrepared event, then manifest.json). A job
 * whose dataset is already committed gets the same event again, so a redelivered request never
 * prepares twice.
 */
@ApplicationScoped
public class DatasetJobs {
  static final String EVENT_FILE = "dataset-prepared.json";
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

  /** What preparing a job's dataset came to. */
  public sealed interface Result permits Ready, Failed {}

  /** The dataset is committed; {@code summary} describes it for the job's events. */
  public record Ready(DatasetPrepared event, String summary) implements Result {}

  /** The dataset was refused; nothing was written. */
  public record Failed(JobError error) implements Result {}

  private final ObjectStore store;
  private final Artifacts artifacts;
  private final ModelTokenizers models;
  private final DataConfig config;

  private final DatasetMetrics metrics;

  DatasetJobs(
      ObjectStore store,
      Artifacts artifacts,
      ModelTokenizers models,
      DataConfig config,
      DatasetMetrics metrics) {
    this.metrics = metrics;
    this.store = store;
    this.artifacts = artifacts;
    this.models = models;
    this.config = config;
  }

  public static String prefix(String jobId) {
    return "datasets/" + jobId + "/";
  }

  public Result prepare(JobSpec requested) {
    JobSpec spec = JobSpecDefaults.resolve(requested);
    String prefix = prefix(spec.getJobId());
    store.ensureBucket();
    Optional<Manifest> committed = artifacts.manifest(prefix);
    if (committed.isPresent()) {
      try (InputStream in = artifacts.open(prefix, EVENT_FILE)) {
        DatasetPrepared event =
            EventCodec.parse(
                new String(in.readAllBytes(), StandardCharsets.UTF_8), DatasetPrepared.class);
        return new Ready(event, "dataset already prepared at " + prefix);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + prefix + EVENT_FILE, e);
      }
    }
    DatasetRef ref = spec.getDataset();
    DatasetPreparer.Input training;
    DatasetPreparer.Input validation;
    try {
      training = read(spec, ref.getTrainingFile(), "training_file");
      validation =
          ref.getValidationFile().isEmpty()
              ? null
              : read(spec, ref.getValidationFile(), "validation_file");
    } catch (IllegalArgumentException e) {
      return failed("file_not_found", e.getMessage(), e.getMessage().split(" ", 2)[0]);
    }
    ModelTokenizers.ModelText model;
    try {
      model = models.of(spec.getBaseModel().getName());
    } catch (IllegalArgumentException e) {
      return failed("model_not_found", e.getMessage(), "model");
    }
    ChatTemplate template;
    String templateName;
    if (!ref.getChatTemplate().isEmpty()) {
      try {
        template = ChatTemplate.builtIn(ref.getChatTemplate());
      } catch (IllegalArgumentException e) {
        return failed("invalid_chat_template", e.getMessage(), "dataset.chat_template");
      }
      templateName = ref.getChatTemplate();
    } else {
      template = model.template().orElse(null);
      templateName = template == null ? "" : "model:" + spec.getBaseModel().getName();
    }
    Optional<DatasetKind> declared = DatasetKind.of(ref.getFormat());
    DatasetKind expected = declared.or(() -> firstKind(training)).orElse(null);
    if (template == null && needsTemplate(expected)) {
      return failed(
          "missing_chat_template",
          "the base model "
              + spec.getBaseModel().getName()
              + " has no chat template and "
              + expected.label()
              + " records need one; set dataset.chat_template to one of "
              + ChatTemplate.BUILT_IN,
          "dataset.chat_template");
    }
    PreparationOptions options;
    try {
      options =
          new PreparationOptions(
              declared.orElse(null),
              spec.getHyperparameters().getMaxSeqLength(),
              policy(ref.getInvalidRecords(), PreparationOptions.Policy.FAIL, "invalid_records"),
              policy(ref.getOverLength(), PreparationOptions.Policy.DROP, "over_length"),
              config.maxReportedProblems(),
              !ref.hasDeduplicate() || ref.getDeduplicate(),
              ref.hasNearDuplicateThreshold() ? ref.getNearDuplicateThreshold() : 0,
              ref.hasValidationSplit() ? ref.getValidationSplit() : 0.1,
              ref.hasTestSplit() ? ref.getTestSplit() : 0.1,
              ref.getStratifyBy().isEmpty() ? null : ref.getStratifyBy(),
              spec.getSeed());
    } catch (IllegalArgumentException e) {
      return failed("invalid_dataset_options", e.getMessage(), "dataset");
    }
    long started = System.nanoTime();
    DatasetPreparer.Outcome outcome =
        new DatasetPreparer(
                new TokenLengths(model.tokenizer(), template),
                Runtime.getRuntime().availableProcessors())
            .prepare(training, validation, options);
    if (outcome instanceof DatasetPreparer.Rejected rejected) {
      String file =
          rejected.problems().isEmpty() ? "training_file" : rejected.problems().get(0).file();
      metrics.rejected(rejected.total(), java.time.Duration.ofNanos(System.nanoTime() - started));
      return failed("invalid_" + file, "dataset rejected: " + rejected.summary(), file);
    }
    DatasetPreparer.Prepared prepared = (DatasetPreparer.Prepared) outcome;
    DatasetPrepared event = commit(spec, prefix, prepared, templateName);
    metrics.prepared(prepared.stats(), java.time.Duration.ofNanos(System.nanoTime() - started));
    return new Ready(event, "dataset prepared: " + prepared.stats().summary());
  }

  private static PreparationOptions.Policy policy(
      String value, PreparationOptions.Policy fallback, String field) {
    return switch (value) {
      case "" -> fallback;
      case "fail" -> PreparationOptions.Policy.FAIL;
      case "drop" -> PreparationOptions.Policy.DROP;
      default ->
          throw new IllegalArgumentException(
              "dataset." + field + " must be \"fail\" or \"drop\" but was \"" + value + "\"");
    };
  }

  private DatasetPreparer.Input read(JobSpec spec, String reference, String field) {
    String key = StoredFiles.resolve(reference, spec.getTenant(), store.bucket(), field);
    Optional<ObjectStore.ObjectInfo> info = store.stat(key);
    if (info.isEmpty()) {
      throw new IllegalArgumentException(field + " " + reference + " does not exist (" + key + ")");
    }
    if (info.get().size() > config.maxFileBytes()) {
      throw new IllegalArgumentException(
          field
              + " "
              + reference
              + " is "
              + info.get().size()
              + " bytes, over the limit of "
              + config.maxFileBytes());
    }
    // An upload is stored as .../content: its layout comes from the name it was uploaded under
    // (kept in its manifest), so a JSON array or CSV upload is read as one, not as JSONL.
    String name =
        key.endsWith("/content")
            ? artifacts
                .manifest(key.substring(0, key.length() - "content".length()))
                .map(m -> m.metadata().getOrDefault("filename", ""))
                .filter(n -> !n.isBlank())
                .orElse(reference)
            : key;
    return new DatasetPreparer.Input(field, name, store.getBytes(key));
  }

  private static Optional<DatasetKind> firstKind(DatasetPreparer.Input input) {
    // Only as far as the first record of a known kind: the preparation reads the file whole later.
    return InputReader.first(input.file(), input.name(), input.content(), DatasetKind::detect);
  }

  private static boolean needsTemplate(DatasetKind kind) {
    return kind == DatasetKind.MESSAGES
        || kind == DatasetKind.PREFERENCE
        || kind == DatasetKind.PROMPT_ONLY;
  }

  private DatasetPrepared commit(
      JobSpec spec, String prefix, DatasetPreparer.Prepared prepared, String templateName) {
    DatasetStats stats = prepared.stats();
    DatasetPrepared.Builder event =
        DatasetPrepared.newBuilder()
            .setJobId(spec.getJobId())
            .setDatasetId(spec.getJobId())
            .setSpec(spec)
            .setFormat(prepared.kind().format())
            .setManifestKey(prefix + Manifest.FILE_NAME)
            .setTokenStatistics(
                TokenStatistics.newBuilder()
                    .setTotalTokens(stats.tokens().total())
                    .setMinTokens(stats.tokens().min())
                    .setMaxTokens(stats.tokens().max())
                    .setMeanTokens(stats.tokens().mean())
                    .setP95Tokens(stats.tokens().p95())
                    .setTruncatedExamples(stats.dropped().getOrDefault("over max_seq_length", 0)))
            .setDuplicatesRemoved(stats.exactDuplicatesRemoved() + stats.nearDuplicatesRemoved())
            .addAllWarnings(prepared.warnings());
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (Map.Entry<String, List<DatasetPreparer.Example>> split : prepared.splits().entrySet()) {
      StringBuilder jsonl = new StringBuilder();
      long tokens = 0;
      for (DatasetPreparer.Example example : split.getValue()) {
        jsonl.append(example.record()).append('\n');
        tokens += example.tokens();
      }
      String name = split.getKey() + ".jsonl";
      files.put(name, jsonl.toString().getBytes(StandardCharsets.UTF_8));
      event.addSplits(
          DatasetSplit.newBuilder()
              .setName(split.getKey())
              .setObjectKey(prefix + name)
              .setExamples(split.getValue().size())
              .setTokens(tokens));
    }
    DatasetPrepared built = event.build();
    files.put("stats.json", GSON.toJson(stats).getBytes(StandardCharsets.UTF_8));
    files.put(EVENT_FILE, EventCodec.toPrettyJson(built).getBytes(StandardCharsets.UTF_8));
    try (ArtifactWriter writer = artifacts.begin(prefix)) {
      files.forEach(
          (name, bytes) ->
              writer.put(
                  name,
                  bytes,
                  name.endsWith(".jsonl") ? "application/x-ndjson" : "application/json"));
      writer.commit(
          Map.of(
              "kind", prepared.kind().label(),
              "format", prepared.kind().format().name(),
              "chat_template", templateName,
              "base_model", spec.getBaseModel().getName(),
              "seed", Long.toString(spec.getSeed()),
              "summary", stats.summary()));
    }
    return built;
  }

  private static Failed failed(String code, String message, String param) {
    return new Failed(
        JobError.newBuilder().setCode(code).setMessage(message).setParam(param).build());
  }
}
