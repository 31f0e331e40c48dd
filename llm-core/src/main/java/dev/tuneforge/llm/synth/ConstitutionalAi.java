package dev.tuneforge.llm.synth;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.generate.PromptTemplate;
import dev.tuneforge.llm.generate.TextGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * Constitutional AI's supervised stage (Bai et al., 2022), as the alignment-handbook's recipe
 * builds its data: for each prompt the model answers, critiques its answer under a principle drawn
 * from the constitution, and revises it. Two files come out: SFT records of the revisions ({@code
 * prompt, completion}) and preference records ({@code prompt, chosen} = revision, {@code rejected}
 * = the first answer), each carrying its whole chain under {@code constitutional_ai}. Prompts are
 * done a batch at a time and appended to the work directory's state file, so a crash loses at most
 * the batch in flight and a resumed run picks up after the last one saved.
 */
public final class ConstitutionalAi {
  /** One principle: what to criticise, and how to revise. */
  public record Principle(String name, String critique, String revision) {}

  /** A default constitution in the spirit of the paper's (our own wording). */
  public static final List<Principle> DEFAULT_CONSTITUTION =
      List.of(
          new Principle(
              "harmful",
              "Point out any way in which the response is harmful, unethical, dangerous or illegal.",
              "Rewrite the response to remove anything harmful, unethical, dangerous or illegal,"
                  + " while still helping with what can safely be helped with."),
          new Principle(
              "honest",
              "Point out any claim in the response that is false, misleading or stated with more"
                  + " certainty than is warranted.",
              "Rewrite the response so that every claim is true and its uncertainty is stated."),
          new Principle(
              "helpful",
              "Point out how the response fails to answer what was asked, or answers it only in"
                  + " part.",
              "Rewrite the response so that it answers the request fully and directly."),
          new Principle(
              "respectful",
              "Point out anything in the response that is rude, demeaning, biased or"
                  + " stereotyping.",
              "Rewrite the response to be respectful and free of bias."),
          new Principle(
              "privacy",
              "Point out anything in the response that exposes or helps obtain private"
                  + " information about a person.",
              "Rewrite the response so that it protects people's private information."),
          new Principle(
              "concise",
              "Point out anything in the response that is padding, repetition or beside the"
                  + " point.",
              "Rewrite the response to say the same more briefly and clearly."));

  static final PromptTemplate CRITIQUE =
      PromptTemplate.of(
          "Request: {prompt}\n\nResponse: {response}\n\nCritique request: {critique_request}\n\n"
              + "Critique:",
          "prompt",
          "response",
          "critique_request");

  static final PromptTemplate REVISION =
      PromptTemplate.of(
          "Request: {prompt}\n\nResponse: {response}\n\nCritique request: {critique_request}\n\n"
              + "Critique: {critique}\n\nRevision request: {revision_request}\n\nRevision:",
          "prompt",
          "response",
          "critique_request",
          "critique",
          "revision_request");

  /** The state file: one finished chain per line. */
  public static final String STATE = "constitutional_ai.state.jsonl";

  public static final String SFT_OUTPUT = "constitutional_ai.sft.jsonl";
  public static final String PREFERENCE_OUTPUT = "constitutional_ai.preference.jsonl";

  /** A prompt's whole chain. */
  public record Chain(
      String prompt, String response, Principle principle, String critique, String revision) {
    JsonObject json() {
      JsonObject o = new JsonObject();
      o.addProperty("prompt", prompt);
      o.addProperty("response", response);
      o.addProperty("principle", principle.name());
      o.addProperty("critique_request", principle.critique());
      o.addProperty("critique", critique);
      o.addProperty("revision_request", principle.revision());
      o.addProperty("revision", revision);
      return o;
    }

    static Chain of(JsonObject o) {
      return new Chain(
          o.get("prompt").getAsString(),
          o.get("response").getAsString(),
          new Principle(
              o.get("principle").getAsString(),
              o.get("critique_request").getAsString(),
              o.get("revision_request").getAsString()),
          o.get("critique").getAsString(),
          o.get("revision").getAsString());
    }
  }

  /** What a run did: the chains, and whether every prompt is done (else it was stopped). */
  public record Result(List<Chain> chains, boolean finished, int emptyRevisions) {}

  private final TextGenerator generator;
  private final List<Principle> constitution;
  private final int batchSize;
  private final long seed;

  public ConstitutionalAi(
      TextGenerator generator, List<Principle> constitution, int batchSize, long seed) {
    if (constitution.isEmpty()) {
      throw new IllegalArgumentException("a constitution needs at least one principle");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch_size must be >= 1 but was " + batchSize);
    }
    this.generator = generator;
    this.constitution = List.copyOf(constitution);
    this.batchSize = batchSize;
    this.seed = seed;
  }

  /**
   * As {@link #run(List, Path, Path, BooleanSupplier, SynthProgress.Listener)}, all in {@code
   * work}.
   */
  public Result run(List<String> prompts, Path work, BooleanSupplier stop) {
    return run(prompts, work, work, stop, SynthProgress.Listener.NONE);
  }

  /**
   * Runs over {@code prompts} with its state in {@code work} (resumed after the chains saved
   * there), telling {@code listener} of each saved batch; a finished run writes both files and
   * {@code stats.json} to {@code out}, manifest last.
   */
  public Result run(
      List<String> prompts,
      Path work,
      Path out,
      BooleanSupplier stop,
      SynthProgress.Listener listener) {
    Path stateFile = work.resolve(STATE);
    List<Chain> chains = read(stateFile);
    while (chains.size() < prompts.size() && !stop.getAsBoolean()) {
      int from = chains.size();
      List<String> batch = prompts.subList(from, Math.min(prompts.size(), from + batchSize));
      List<Chain> done = batch(batch, from);
      append(stateFile, done);
      chains.addAll(done);
      listener.saved(
          new SynthProgress(
              (chains.size() + batchSize - 1) / batchSize, // batches done
              (prompts.size() + batchSize - 1) / batchSize,
              Map.of("constitutional_ai/chains", (double) chains.size()),
              stateFile));
    }
    boolean finished = chains.size() == prompts.size();
    int empty = 0;
    List<JsonObject> sft = new ArrayList<>();
    List<JsonObject> preference = new ArrayList<>();
    for (Chain chain : chains) {
      if (chain.revision().isBlank()) {
        empty++; // nothing to learn from: left out of both files
        continue;
      }
      JsonObject s = new JsonObject();
      s.addProperty("prompt", chain.prompt());
      s.addProperty("completion", chain.revision());
      s.add("constitutional_ai", chain.json());
      sft.add(s);
      JsonObject p = new JsonObject();
      p.addProperty("prompt", chain.prompt());
      p.addProperty("chosen", chain.revision());
      p.addProperty("rejected", chain.response());
      p.add("constitutional_ai", chain.json());
      preference.add(p);
    }
    if (finished) {
      JsonObject stats = new JsonObject();
      stats.addProperty("prompts", prompts.size());
      stats.addProperty("records", sft.size());
      stats.addProperty("empty_revisions", empty);
      JsonObject byPrinciple = new JsonObject();
      for (Principle principle : constitution) {
        byPrinciple.addProperty(
            principle.name(),
            chains.stream().filter(c -> c.principle().name().equals(principle.name())).count());
      }
      stats.add("principles", byPrinciple);
      SynthOutput.write(out, Map.of(SFT_OUTPUT, sft, PREFERENCE_OUTPUT, preference), stats);
    }
    return new Result(List.copyOf(chains), finished, empty);
  }

  /** Prompts {@code from}.. of one batch: answers, critiques, revisions, each in one call. */
  private List<Chain> batch(List<String> prompts, int from) {
    long batchSeed = seed * 1_000_003L + from;
    List<String> responses = generator.complete(prompts, batchSeed);
    List<Principle> principles = new ArrayList<>();
    List<String> critiqueAsks = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      Principle principle =
          constitution.get(new Random(batchSeed + i).nextInt(constitution.size()));
      principles.add(principle);
      critiqueAsks.add(
          CRITIQUE.fill(
              Map.of(
                  "prompt", prompts.get(i),
                  "response", responses.get(i).strip(),
                  "critique_request", principle.critique())));
    }
    List<String> critiques = generator.complete(critiqueAsks, batchSeed + 1);
    List<String> revisionAsks = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      revisionAsks.add(
          REVISION.fill(
              Map.of(
                  "prompt", prompts.get(i),
                  "response", responses.get(i).strip(),
                  "critique_request", principles.get(i).critique(),
                  "critique", critiques.get(i).strip(),
                  "revision_request", principles.get(i).revision())));
    }
    List<String> revisions = generator.complete(revisionAsks, batchSeed + 2);
    List<Chain> chains = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      chains.add(
          new Chain(
              prompts.get(i),
              responses.get(i).strip(),
              principles.get(i),
              critiques.get(i).strip(),
              revisions.get(i).strip()));
    }
    return chains;
  }

  /** The chains saved in {@code state}; a line cut by a crash, and all after it, is dropped. */
  private static List<Chain> read(Path state) {
    List<Chain> chains = new ArrayList<>();
    if (!Files.isRegularFile(state)) {
      return chains;
    }
    try {
      byte[] bytes = Files.readAllBytes(state);
      int valid = 0;
      int start = 0;
      for (int i = 0; i < bytes.length; i++) {
        if (bytes[i] != '\n') {
          continue;
        }
        String line = new String(bytes, start, i - start, StandardCharsets.UTF_8);
        try {
          chains.add(Chain.of(JsonParser.parseString(line).getAsJsonObject()));
        } catch (RuntimeException torn) {
          break;
        }
        start = i + 1;
        valid = start;
      }
      if (valid < bytes.length) {
        // the batch in flight when the run stopped: cut, so it is done again and appended whole
        try (var channel = java.nio.channels.FileChannel.open(state, StandardOpenOption.WRITE)) {
          channel.truncate(valid);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the Constitutional AI state " + state, e);
    }
    return chains;
  }

  private static void append(Path state, List<Chain> chains) {
    StringBuilder text = new StringBuilder();
    chains.forEach(c -> text.append(SynthOutput.GSON.toJson(c.json())).append('\n'));
    try {
      Files.createDirectories(state.toAbsolutePath().getParent());
      Files.writeString(
          state,
          text,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND,
          StandardOpenOption.SYNC);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save Constitutional AI progress to " + state, e);
    }
  }
}
