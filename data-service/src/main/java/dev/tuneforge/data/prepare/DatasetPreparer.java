package dev.tuneforge.data.prepare;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns uploaded files into train/validation/test splits, or refuses them with every problem named
 * by line and field. Pure: reading and writing storage is the caller's. Nothing is produced unless
 * the whole dataset passes the configured policies.
 */
public final class DatasetPreparer {
  /** An input file: which one it is ("training_file"), its name and bytes. */
  public record Input(String file, String name, byte[] content) {}

  /** A kept record in canonical form, with its token count and input line. */
  public record Example(JsonObject record, int tokens, int line) {}

  /** The result of preparing a dataset. */
  public sealed interface Outcome permits Prepared, Rejected {}

  /** Splits by name (train, validation, test), in order. */
  public record Prepared(
      DatasetKind kind,
      Map<String, List<Example>> splits,
      DatasetStats stats,
      List<String> warnings)
      implements Outcome {}

  /** The first problems (up to max reported) and how many there were in all. */
  public record Rejected(List<Problem> problems, int total) implements Outcome {
    public String summary() {
      return total
          + (total == 1 ? " problem" : " problems")
          + (total > problems.size() ? " (first " + problems.size() + " listed)" : "")
          + ": "
          + String.join("; ", problems.stream().map(Problem::toString).toList());
    }
  }

  static final String TRAIN = "train";
  static final String VALIDATION = "validation";
  static final String TEST = "test";

  private final TokenLengths lengths;
  private final int parallelism;

  /** A preparer that checks rows on one thread. */
  public DatasetPreparer(TokenLengths lengths) {
    this(lengths, 1);
  }

  /**
   * @param parallelism threads that check and tokenize rows (typ. the cores available)
   */
  public DatasetPreparer(TokenLengths lengths, int parallelism) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1 but was " + parallelism);
    }
    this.lengths = lengths;
    this.parallelism = parallelism;
  }

  public Outcome prepare(Input training, Input validation, PreparationOptions options) {
    List<Problem> problems = new ArrayList<>();
    Map<String, Integer> dropped = new TreeMap<>();
    InputReader.Rows trainingRows =
        InputReader.read(training.file(), training.name(), training.content());
    InputReader.Rows validationRows =
        validation == null
            ? null
            : InputReader.read(validation.file(), validation.name(), validation.content());
    DatasetKind kind = options.kind();
    int detectedAt = 0;
    if (kind == null) {
      for (Row row : trainingRows.rows()) {
        Optional<DatasetKind> detected = DatasetKind.detect(row.record());
        if (detected.isPresent()) {
          kind = detected.get();
          detectedAt = row.line();
          break;
        }
      }
      if (kind == null) {
        Row first = trainingRows.rows().isEmpty() ? null : trainingRows.rows().get(0);
        problems.addAll(trainingRows.problems());
        if (first != null) {
          problems.add(
              new Problem(
                  training.file(),
                  first.line(),
                  "no known fields "
                      + first.record().keySet()
                      + "; expected \"text\", \"prompt\"+\"completion\", \"instruction\"+\"output\","
                      + " \"messages\", \"conversations\", \"prompt\"+\"chosen\"+\"rejected\" or"
                      + " \"prompt\""));
        }
        return rejected(problems, options);
      }
    }
    Normalizer normalizer = new Normalizer(options.stratifyBy());
    List<Example> trainingExamples =
        examples(
            trainingRows,
            training.file(),
            kind,
            detectedAt,
            normalizer,
            options,
            problems,
            dropped);
    List<Example> validationExamples =
        validationRows == null
            ? null
            : examples(
                validationRows,
                validation.file(),
                kind,
                detectedAt,
                normalizer,
                options,
                problems,
                dropped);
    if (!problems.isEmpty()) {
      return rejected(problems, options);
    }
    int inputRecords =
        trainingRows.rows().size()
            + trainingRows.problems().size()
            + (validationRows == null
                ? 0
                : validationRows.rows().size() + validationRows.problems().size());

    // Deduplicate within and across the files: a validation copy of a training record is removed.
    int[] removed = new int[2];
    Set<String> seen = new HashSet<>();
    NearDuplicates near =
        options.nearDuplicateThreshold() > 0
            ? new NearDuplicates(options.nearDuplicateThreshold(), options.seed())
            : null;
    trainingExamples = dedup(trainingExamples, seen, near, options.deduplicate(), removed);
    if (validationExamples != null) {
      validationExamples = dedup(validationExamples, seen, near, options.deduplicate(), removed);
    }
    if (trainingExamples.isEmpty()) {
      return new Rejected(
          List.of(new Problem(training.file(), 0, "has no records left to train on")), 1);
    }

    List<String> warnings = new ArrayList<>();
    Map<String, List<Example>> splits =
        split(trainingExamples, validationExamples, options, warnings);
    DatasetStats stats = stats(inputRecords, kind, splits, options, removed, dropped);
    if (!dropped.isEmpty()) {
      warnings.add("records dropped: " + dropped);
    }
    return new Prepared(kind, splits, stats, warnings);
  }

  private List<Example> examples(
      InputReader.Rows rows,
      String file,
      DatasetKind kind,
      int detectedAt,
      Normalizer normalizer,
      PreparationOptions options,
      List<Problem> problems,
      Map<String, Integer> dropped) {
    boolean dropInvalid = options.invalidRecords() == PreparationOptions.Policy.DROP;
    for (Problem problem : rows.problems()) {
      if (dropInvalid && problem.line() > 0) {
        dropped.merge("invalid", 1, Integer::sum);
      } else {
        problems.add(problem);
      }
    }
    // Rows are checked and tokenized independently (in parallel when allowed); the outcomes are
    // folded in input order, so the result does not depend on the thread count.
    java.util.function.Function<Row, Checked> check =
        row -> check(row, kind, detectedAt, normalizer, options);
    List<Checked> checked =
        parallelism > 1 && rows.rows().size() > 256
            ? pool().submit(() -> rows.rows().parallelStream().map(check).toList()).join()
            : rows.rows().stream().map(check).toList();
    List<Example> examples = new ArrayList<>();
    for (Checked outcome : checked) {
      if (outcome.message() == null) {
        examples.add(outcome.example());
      } else if (outcome.overLength() && options.overLength() == PreparationOptions.Policy.DROP) {
        dropped.merge("over max_seq_length", 1, Integer::sum);
      } else if (!outcome.overLength() && dropInvalid) {
        dropped.merge("invalid", 1, Integer::sum);
      } else {
        problems.add(new Problem(file, outcome.line(), outcome.message()));
      }
    }
    return examples;
  }

  /** One row's outcome: a kept example, or the rule it broke. */
  private record Checked(int line, Example example, String message, boolean overLength) {}

  private Checked check(
      Row row,
      DatasetKind kind,
      int detectedAt,
      Normalizer normalizer,
      PreparationOptions options) {
    Optional<DatasetKind> looksLike = DatasetKind.detect(row.record());
    if (looksLike.isPresent() && looksLike.get() != kind && options.kind() == null) {
      return new Checked(
          row.line(),
          null,
          "looks like "
              + looksLike.get().label()
              + " records, but the dataset is "
              + kind.label()
              + " (detected from line "
              + detectedAt
              + ")",
          false);
    }
    try {
      JsonObject canonical = normalizer.normalize(row.record(), kind);
      TokenLengths.Count count = lengths.of(canonical, kind, options.maxSeqLength());
      int tokens = count.tokens();
      if (tokens > options.maxSeqLength()) {
        return new Checked(
            row.line(), null, count + " > max_seq_length " + options.maxSeqLength(), true);
      }
      return new Checked(row.line(), new Example(canonical, tokens, row.line()), null, false);
    } catch (Normalizer.Invalid e) {
      return new Checked(row.line(), null, e.getMessage(), false);
    } catch (RuntimeException e) {
      return new Checked(
          row.line(), null, "cannot be formatted for the model: " + e.getMessage(), false);
    }
  }

  /** One pool per parallelism for the whole JVM (its idle workers exit on their own). */
  private static final java.util.Map<Integer, java.util.concurrent.ForkJoinPool> POOLS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private java.util.concurrent.ForkJoinPool pool() {
    return POOLS.computeIfAbsent(parallelism, java.util.concurrent.ForkJoinPool::new);
  }

  private static Rejected rejected(List<Problem> problems, PreparationOptions options) {
    List<Problem> sorted = new ArrayList<>(problems);
    return new Rejected(
        List.copyOf(sorted.subList(0, Math.min(sorted.size(), options.maxReported()))),
        sorted.size());
  }

  private static List<Example> dedup(
      List<Example> examples, Set<String> seen, NearDuplicates near, boolean exact, int[] removed) {
    List<Example> kept = new ArrayList<>();
    for (Example example : examples) {
      if (exact && !seen.add(example.record().toString())) {
        removed[0]++;
        continue;
      }
      if (near != null && near.isDuplicate(textOf(example.record()))) {
        removed[1]++;
        continue;
      }
      kept.add(example);
    }
    return kept;
  }

  /** Every string in a record, in order, for near-duplicate detection. */
  static String textOf(JsonElement element) {
    StringBuilder text = new StringBuilder();
    collect(element, text);
    return text.toString();
  }

  private static void collect(JsonElement element, StringBuilder text) {
    if (element.isJsonObject()) {
      element.getAsJsonObject().entrySet().forEach(e -> collect(e.getValue(), text));
    } else if (element.isJsonArray()) {
      element.getAsJsonArray().forEach(e -> collect(e, text));
    } else if (element.isJsonPrimitive() && element.getAsJsonPrimitive().isString()) {
      text.append(element.getAsString()).append('\n');
    }
  }

  private static Map<String, List<Example>> split(
      List<Example> training,
      List<Example> validation,
      PreparationOptions options,
      List<String> warnings) {
    double validationRatio = validation == null ? options.validationRatio() : 0;
    Map<String, List<Example>> groups = new TreeMap<>();
    for (Example example : training) {
      String label =
          options.stratifyBy() == null
              ? ""
              : example.record().get(options.stratifyBy()).getAsString();
      groups.computeIfAbsent(label, k -> new ArrayList<>()).add(example);
    }
    Random random = new Random(options.seed());
    List<Example> train = new ArrayList<>();
    List<Example> held = new ArrayList<>();
    List<Example> test = new ArrayList<>();
    for (List<Example> group : groups.values()) {
      List<Example> shuffled = new ArrayList<>(group);
      Collections.shuffle(shuffled, random);
      int testCount = (int) Math.round(shuffled.size() * options.testRatio());
      int validationCount = (int) Math.round(shuffled.size() * validationRatio);
      if (testCount + validationCount >= shuffled.size()) {
        testCount = Math.min(testCount, Math.max(0, shuffled.size() - 1));
        validationCount = Math.max(0, Math.min(validationCount, shuffled.size() - 1 - testCount));
      }
      test.addAll(shuffled.subList(0, testCount));
      held.addAll(shuffled.subList(testCount, testCount + validationCount));
      train.addAll(shuffled.subList(testCount + validationCount, shuffled.size()));
    }
    // Restore input order within each split, so files read like their source.
    java.util.Comparator<Example> byLine = java.util.Comparator.comparingInt(Example::line);
    train.sort(byLine);
    held.sort(byLine);
    test.sort(byLine);
    Map<String, List<Example>> splits = new LinkedHashMap<>();
    splits.put(TRAIN, train);
    splits.put(VALIDATION, validation != null ? validation : held);
    splits.put(TEST, test);
    if (splits.get(VALIDATION).isEmpty() && (validation != null || validationRatio > 0)) {
      warnings.add("the validation split is empty: too few records for validation_split");
    }
    if (test.isEmpty() && options.testRatio() > 0) {
      warnings.add("the test split is empty: too few records for test_split");
    }
    return splits;
  }

  private static DatasetStats stats(
      int inputRecords,
      DatasetKind kind,
      Map<String, List<Example>> splits,
      PreparationOptions options,
      int[] removed,
      Map<String, Integer> dropped) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    List<Integer> all = new ArrayList<>();
    Map<String, Integer> roles = new TreeMap<>();
    Map<String, Integer> labels = new TreeMap<>();
    long turns = 0;
    long conversations = 0;
    for (Map.Entry<String, List<Example>> split : splits.entrySet()) {
      counts.put(split.getKey(), split.getValue().size());
      for (Example example : split.getValue()) {
        all.add(example.tokens());
        if (kind == DatasetKind.MESSAGES) {
          conversations++;
          for (JsonElement message : example.record().getAsJsonArray("messages")) {
            turns++;
            roles.merge(message.getAsJsonObject().get("role").getAsString(), 1, Integer::sum);
          }
        }
        if (options.stratifyBy() != null) {
          labels.merge(example.record().get(options.stratifyBy()).getAsString(), 1, Integer::sum);
        }
      }
    }
    int[] lengths = all.stream().mapToInt(Integer::intValue).toArray();
    return new DatasetStats(
        inputRecords,
        counts,
        DatasetStats.Tokens.of(lengths),
        DatasetStats.histogram(lengths),
        roles,
        conversations == 0 ? 0 : (double) turns / conversations,
        labels,
        removed[0],
        removed[1],
        dropped);
  }
}
