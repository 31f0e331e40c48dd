package dev.tuneforge.llm.synth;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.generate.TextGenerator;
import dev.tuneforge.llm.metrics.Rouge;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Self-Instruct (Wang et al., 2022): from seed tasks, a model writes new instructions, which are
 * kept only when they are new enough (ROUGE-L F against every instruction in the pool below the
 * threshold, 0.7 by default), of a sensible length, free of the keyword blacklist (tasks a text
 * model cannot do: images, files, plots...) and not starting with punctuation; the model then
 * writes an input and output for each kept one, and exact duplicates are dropped. Each round asks
 * with in-context examples drawn from the pool (seed and generated tasks), seeded by the round, so
 * a run resumed from its state file ends as the uninterrupted one would. It stops at the target
 * count, the round budget or the stop signal, and writes Alpaca records and {@code stats.json}:
 * kept and rejected counts by reason and the diversity of what was kept.
 */
public final class SelfInstruct {
  /** An Alpaca task. */
  public record Task(String instruction, String input, String output) {
    JsonObject json() {
      JsonObject o = new JsonObject();
      o.addProperty("instruction", instruction);
      o.addProperty("input", input);
      o.addProperty("output", output);
      return o;
    }

    static Task of(JsonObject o) {
      return new Task(
          o.get("instruction").getAsString(),
          o.has("input") && !o.get("input").isJsonNull() ? o.get("input").getAsString() : "",
          o.get("output").getAsString());
    }
  }

  /** Why a generated instruction or instance was not kept. */
  public enum Rejection {
    UNPARSEABLE,
    STARTS_WITH_PUNCTUATION,
    TOO_SHORT,
    TOO_LONG,
    BLACKLISTED,
    DUPLICATE,
    SIMILAR,
    NO_OUTPUT
  }

  /** The paper's blacklist: tasks a language model cannot carry out. */
  public static final List<String> DEFAULT_BLACKLIST =
      List.of(
          "image",
          "images",
          "graph",
          "graphs",
          "picture",
          "pictures",
          "file",
          "files",
          "map",
          "maps",
          "draw",
          "plot",
          "go to",
          "video",
          "audio",
          "music",
          "flowchart",
          "diagram");

  /**
   * @param targetCount stop once this many tasks are kept
   * @param maxRounds the budget: at most this many rounds of generation
   * @param promptsPerRound instruction prompts asked per round
   * @param examplesPerPrompt in-context tasks per prompt (the paper: 8)
   * @param machineExamples of those, at most this many generated ones (the paper: 2)
   * @param rougeThreshold kept only when ROUGE-L F to every pool instruction is below this
   * @param minWords instructions shorter are dropped
   * @param maxWords instructions longer are dropped
   * @param blacklist instructions naming any of these words are dropped
   * @param seed of every round's example draw and sampling
   */
  public record Settings(
      int targetCount,
      int maxRounds,
      int promptsPerRound,
      int examplesPerPrompt,
      int machineExamples,
      double rougeThreshold,
      int minWords,
      int maxWords,
      List<String> blacklist,
      long seed) {
    public Settings {
      if (targetCount < 1 || maxRounds < 1 || promptsPerRound < 1 || examplesPerPrompt < 1) {
        throw new IllegalArgumentException(
            "target_count, max_rounds, prompts_per_round and examples_per_prompt must be >= 1");
      }
      if (machineExamples < 0 || machineExamples > examplesPerPrompt) {
        throw new IllegalArgumentException(
            "machine_examples must be in [0, examples_per_prompt] but was " + machineExamples);
      }
      if (!(rougeThreshold > 0 && rougeThreshold <= 1)) {
        throw new IllegalArgumentException(
            "rouge_threshold must be in (0, 1] but was " + rougeThreshold);
      }
      if (minWords < 1 || maxWords < minWords) {
        throw new IllegalArgumentException(
            "min_words must be >= 1 and max_words >= min_words, not " + minWords + ", " + maxWords);
      }
      blacklist = List.copyOf(blacklist);
    }

    public static Settings defaults(int targetCount) {
      return new Settings(targetCount, 100, 4, 8, 2, 0.7, 3, 150, DEFAULT_BLACKLIST, 42);
    }
  }

  /** The run's state file in the work directory. */
  public static final String STATE = "self_instruct.state.json";

  /** The Alpaca output. */
  public static final String OUTPUT = "self_instruct.jsonl";

  private static final Pattern NUMBERED = Pattern.compile("^\\s*(\\d+)\\s*[.)]\\s*(.*)$");

  private final TextGenerator generator;
  private final Settings settings;

  public SelfInstruct(TextGenerator generator, Settings settings) {
    this.generator = generator;
    this.settings = settings;
  }

  /** What a run kept and why it dropped the rest. */
  public record Result(
      List<Task> kept, Map<Rejection, Integer> rejected, int rounds, boolean finished) {}

  /**
   * As {@link #run(List, Path, Path, BooleanSupplier, SynthProgress.Listener)}, all in {@code
   * work}.
   */
  public Result run(List<Task> seeds, Path work, BooleanSupplier stop) {
    return run(seeds, work, work, stop, SynthProgress.Listener.NONE);
  }

  /**
   * Generates from {@code seeds} with its state in {@code work} (resumed when a state file is
   * there), telling {@code listener} of each saved round; a finished run writes {@value #OUTPUT}
   * and {@code stats.json} to {@code out}, manifest last.
   */
  public Result run(
      List<Task> seeds,
      Path work,
      Path out,
      BooleanSupplier stop,
      SynthProgress.Listener listener) {
    if (seeds.isEmpty()) {
      throw new IllegalArgumentException("Self-Instruct needs at least one seed task");
    }
    Path stateFile = work.resolve(STATE);
    State state = State.read(stateFile);
    while (state.kept.size() < settings.targetCount()
        && state.rounds < settings.maxRounds()
        && !stop.getAsBoolean()) {
      round(seeds, state);
      state.write(stateFile);
      Map<String, Double> figures = new LinkedHashMap<>();
      figures.put("self_instruct/kept", (double) state.kept.size());
      state.rejected.forEach(
          (why, n) ->
              figures.put(
                  "self_instruct/rejected/" + why.name().toLowerCase(Locale.ROOT), (double) n));
      listener.saved(new SynthProgress(state.rounds, settings.maxRounds(), figures, stateFile));
    }
    boolean finished = !stop.getAsBoolean() || state.kept.size() >= settings.targetCount();
    List<Task> kept =
        List.copyOf(state.kept.subList(0, Math.min(state.kept.size(), settings.targetCount())));
    Result result =
        new Result(kept, Collections.unmodifiableMap(state.rejected), state.rounds, finished);
    if (finished) {
      List<JsonObject> records = kept.stream().map(Task::json).toList();
      SynthOutput.write(out, Map.of(OUTPUT, records), stats(seeds, result));
    }
    return result;
  }

  /** One round: instructions asked, filtered, instances asked for the kept ones, deduplicated. */
  private void round(List<Task> seeds, State state) {
    long roundSeed = settings.seed() * 1_000_003L + state.rounds;
    Random random = new Random(roundSeed);
    List<String> prompts = new ArrayList<>();
    List<Integer> firstNumbers = new ArrayList<>();
    for (int p = 0; p < settings.promptsPerRound(); p++) {
      List<Task> examples = examples(seeds, state.kept, random);
      StringBuilder prompt = new StringBuilder("Come up with a series of tasks:\n");
      for (int i = 0; i < examples.size(); i++) {
        prompt.append(i + 1).append(". ").append(examples.get(i).instruction()).append('\n');
      }
      prompt.append(examples.size() + 1).append('.');
      prompts.add(prompt.toString());
      firstNumbers.add(examples.size() + 1);
    }
    List<String> completions = generator.complete(prompts, roundSeed);
    List<String> pool = new ArrayList<>();
    seeds.forEach(t -> pool.add(t.instruction()));
    state.kept.forEach(t -> pool.add(t.instruction()));
    Set<String> seen = new HashSet<>();
    pool.forEach(i -> seen.add(normal(i)));
    List<String> accepted = new ArrayList<>();
    for (int p = 0; p < completions.size(); p++) {
      for (String candidate : instructions(completions.get(p), firstNumbers.get(p))) {
        Rejection why = check(candidate, pool, seen);
        if (why != null) {
          state.reject(why);
          continue;
        }
        accepted.add(candidate.strip());
        pool.add(candidate.strip());
        seen.add(normal(candidate));
      }
    }
    List<String> instancePrompts =
        accepted.stream().map(i -> "Instruction: " + i + "\nInput:").toList();
    List<String> instances =
        instancePrompts.isEmpty() ? List.of() : generator.complete(instancePrompts, roundSeed + 1);
    Set<String> tasks = new HashSet<>();
    state.kept.forEach(t -> tasks.add(key(t)));
    for (int i = 0; i < accepted.size(); i++) {
      Task task = instance(accepted.get(i), instances.get(i));
      if (task == null) {
        state.reject(Rejection.NO_OUTPUT);
      } else if (!tasks.add(key(task))) {
        state.reject(Rejection.DUPLICATE);
      } else {
        state.kept.add(task);
      }
    }
    state.rounds++;
  }

  private List<Task> examples(List<Task> seeds, List<Task> generated, Random random) {
    List<Task> machine = new ArrayList<>(generated);
    Collections.shuffle(machine, random);
    List<Task> chosen =
        new ArrayList<>(machine.subList(0, Math.min(settings.machineExamples(), machine.size())));
    List<Task> human = new ArrayList<>(seeds);
    Collections.shuffle(human, random);
    int fromSeeds = Math.min(human.size(), settings.examplesPerPrompt() - chosen.size());
    chosen.addAll(0, human.subList(0, fromSeeds));
    return chosen;
  }

  /** The numbered instructions of a completion, the first continuing "{first}.". */
  static List<String> instructions(String completion, int first) {
    List<String> out = new ArrayList<>();
    String[] lines = (first + "." + completion).split("\n");
    for (String line : lines) {
      Matcher m = NUMBERED.matcher(line);
      if (m.matches() && Integer.parseInt(m.group(1)) >= first) {
        out.add(m.group(2));
      }
    }
    return out;
  }

  /** Why {@code candidate} is dropped, or null when it is kept. */
  Rejection check(String candidate, List<String> pool, Set<String> seen) {
    String text = candidate.strip();
    if (text.isEmpty()) {
      return Rejection.UNPARSEABLE;
    }
    if (!Character.isLetterOrDigit(text.codePointAt(0))) {
      return Rejection.STARTS_WITH_PUNCTUATION;
    }
    int words = text.split("\\s+").length;
    if (words < settings.minWords()) {
      return Rejection.TOO_SHORT;
    }
    if (words > settings.maxWords()) {
      return Rejection.TOO_LONG;
    }
    String lower = " " + text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", " ") + " ";
    for (String word : settings.blacklist()) {
      if (lower.contains(" " + word.toLowerCase(Locale.ROOT) + " ")) {
        return Rejection.BLACKLISTED;
      }
    }
    if (seen.contains(normal(text))) {
      return Rejection.DUPLICATE;
    }
    for (String other : pool) {
      if (Rouge.rougeL(other, text).fmeasure() >= settings.rougeThreshold()) {
        return Rejection.SIMILAR;
      }
    }
    return null;
  }

  /**
   * The task an instance completion gives ("{input}\nOutput: {output}"), or null without output.
   */
  static Task instance(String instruction, String completion) {
    int at = completion.indexOf("Output:");
    if (at < 0) {
      return null;
    }
    String input = completion.substring(0, at).strip();
    if (input.equalsIgnoreCase("<noinput>") || input.equalsIgnoreCase("none")) {
      input = "";
    }
    String output = completion.substring(at + "Output:".length());
    int next = output.indexOf("\nInstruction:");
    output = (next >= 0 ? output.substring(0, next) : output).strip();
    return output.isEmpty() ? null : new Task(instruction, input, output);
  }

  private static String normal(String instruction) {
    return instruction.strip().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
  }

  private static String key(Task task) {
    return normal(task.instruction())
        + "\u0000"
        + task.input().strip()
        + "\u0000"
        + task.output().strip();
  }

  /**
   * The run's figures: kept and rejected by reason, rounds, and diversity: the mean over kept
   * instructions of their highest ROUGE-L F to any other instruction of the pool (lower is more
   * diverse), and distinct-2 (distinct word bigrams over all bigrams of the kept instructions).
   */
  JsonObject stats(List<Task> seeds, Result result) {
    JsonObject stats = new JsonObject();
    stats.addProperty("seed_tasks", seeds.size());
    stats.addProperty("kept", result.kept().size());
    stats.addProperty("rounds", result.rounds());
    JsonObject rejected = new JsonObject();
    int total = 0;
    for (Map.Entry<String, Integer> count : counts(result).entrySet()) {
      rejected.addProperty(count.getKey(), count.getValue());
      total += count.getValue();
    }
    stats.add("rejected", rejected);
    stats.addProperty("rejected_total", total);
    List<String> pool = new ArrayList<>();
    seeds.forEach(t -> pool.add(t.instruction()));
    result.kept().forEach(t -> pool.add(t.instruction()));
    double maxSum = 0;
    long bigrams = 0;
    Set<String> distinct = new HashSet<>();
    for (Task task : result.kept()) {
      double max = 0;
      for (String other : pool) {
        if (!other.equals(task.instruction())) {
          max = Math.max(max, Rouge.rougeL(other, task.instruction()).fmeasure());
        }
      }
      maxSum += max;
      List<String> words = Rouge.tokenize(task.instruction());
      for (int i = 0; i + 1 < words.size(); i++) {
        bigrams++;
        distinct.add(words.get(i) + " " + words.get(i + 1));
      }
    }
    JsonObject diversity = new JsonObject();
    int n = result.kept().size();
    diversity.addProperty("mean_max_rouge_l", n == 0 ? 0 : maxSum / n);
    diversity.addProperty("distinct_2", bigrams == 0 ? 0 : (double) distinct.size() / bigrams);
    stats.add("diversity", diversity);
    JsonObject config = new JsonObject();
    config.addProperty("target_count", settings.targetCount());
    config.addProperty("max_rounds", settings.maxRounds());
    config.addProperty("prompts_per_round", settings.promptsPerRound());
    config.addProperty("examples_per_prompt", settings.examplesPerPrompt());
    config.addProperty("machine_examples", settings.machineExamples());
    config.addProperty("rouge_threshold", settings.rougeThreshold());
    config.addProperty("min_words", settings.minWords());
    config.addProperty("max_words", settings.maxWords());
    config.add("blacklist", SynthOutput.GSON.toJsonTree(settings.blacklist()));
    config.addProperty("seed", settings.seed());
    stats.add("settings", config);
    return stats;
  }

  /** Rounds done, tasks kept, rejections: saved after every round. */
  private static final class State {
    int rounds;
    final List<Task> kept = new ArrayList<>();
    final Map<Rejection, Integer> rejected = new EnumMap<>(Rejection.class);

    void reject(Rejection why) {
      rejected.merge(why, 1, Integer::sum);
    }

    static State read(Path file) {
      State state = new State();
      if (!Files.isRegularFile(file)) {
        return state;
      }
      try {
        JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        state.rounds = o.get("rounds").getAsInt();
        o.getAsJsonArray("kept").forEach(t -> state.kept.add(Task.of(t.getAsJsonObject())));
        o.getAsJsonObject("rejected")
            .entrySet()
            .forEach(
                e -> state.rejected.put(Rejection.valueOf(e.getKey()), e.getValue().getAsInt()));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the Self-Instruct state " + file, e);
      }
      return state;
    }

    void write(Path file) {
      JsonObject o = new JsonObject();
      o.addProperty("rounds", rounds);
      JsonArray tasks = new JsonArray();
      kept.forEach(t -> tasks.add(t.json()));
      o.add("kept", tasks);
      JsonObject counts = new JsonObject();
      rejected.forEach((k, v) -> counts.addProperty(k.name(), v));
      o.add("rejected", counts);
      SynthOutput.writeAtomically(file, SynthOutput.GSON.toJson(o));
    }
  }

  /** Every rejection reason with its count, zeros included (for callers' reports). */
  public static Map<String, Integer> counts(Result result) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Rejection r : Rejection.values()) {
      counts.put(r.name().toLowerCase(Locale.ROOT), result.rejected().getOrDefault(r, 0));
    }
    return counts;
  }
}
