package dev.tuneforge.llm.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.generate.TextGenerator;
import dev.tuneforge.llm.synth.SelfInstruct.Rejection;
import dev.tuneforge.llm.synth.SelfInstruct.Task;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Self-Instruct with deterministic generators: each filter drops what it should, the output is
 * Alpaca data the SFT reader takes, a crashed run resumes to the uninterrupted result, and a
 * cancelled one leaves no manifest.
 */
class SelfInstructTest {
  @TempDir Path dir;

  static final List<Task> SEEDS =
      List.of(
          new Task("Give three tips for staying healthy.", "", "Eat well, sleep, move."),
          new Task("Translate the sentence into French.", "Good morning", "Bonjour"),
          new Task("Name the capital of the given country.", "Peru", "Lima"));

  static SelfInstruct.Settings settings(int target, int rounds) {
    return new SelfInstruct.Settings(
        target, rounds, 2, 3, 1, 0.7, 3, 20, SelfInstruct.DEFAULT_BLACKLIST, 5);
  }

  /** One round's instructions, each written to trip one filter, then one that passes. */
  static final String SCRIPTED =
      String.join(
          "\n",
          " Draw a picture of a quiet harbour at night.",
          "5. !Explain how tides work to a child.",
          "6. Say hi",
          "7. " + "very ".repeat(25) + "long instruction",
          "8. Give three tips for staying healthy.",
          "9. Give three tips for staying healthy today.",
          "10. Summarize the story of a famous novel in one paragraph.",
          "11. List five uses of a paperclip around the house.",
          "12. List five uses of a paperclip around the house.");

  @Test
  void everyFilterDropsWhatItShouldAndTheRestIsKept() throws Exception {
    TextGenerator generator =
        (prompts, seed) ->
            prompts.stream()
                .map(
                    p ->
                        p.startsWith("Instruction: Summarize")
                            ? "no output here" // no "Output:": dropped
                            : p.startsWith("Instruction:")
                                ? " <noinput>\nOutput: A paperclip can hold papers.\nInstruction:"
                                    + " ignored"
                                : SCRIPTED)
                .toList();
    SelfInstruct.Result result =
        new SelfInstruct(generator, settings(10, 1)).run(SEEDS, dir, () -> false);
    assertEquals(1, result.rounds());
    assertEquals(
        List.of(
            new Task(
                "List five uses of a paperclip around the house.",
                "",
                "A paperclip can hold papers.")),
        result.kept());
    Map<String, Integer> counts = SelfInstruct.counts(result);
    // both prompts of the round got the same script: every rejection twice, the copies duplicate
    assertEquals(2, counts.get("blacklisted"), "" + counts);
    assertEquals(2, counts.get("starts_with_punctuation"), "" + counts);
    assertEquals(2, counts.get("too_short"), "" + counts);
    assertEquals(2, counts.get("too_long"), "" + counts);
    assertEquals(
        2 + 1 + 1 + 2, counts.get("duplicate"), "seed copies, the repeat, the second prompt's");
    assertEquals(2, counts.get("similar"), "ROUGE-L 0.93 against the seed: " + counts);
    assertEquals(1, counts.get("no_output"), "" + counts);
    assertTrue(SynthOutput.complete(dir));
    List<String> lines = Files.readAllLines(dir.resolve(SelfInstruct.OUTPUT));
    assertEquals(1, lines.size());
    try (Tokenizer tokenizer = tinyTokenizer()) {
      SftDataset.Result parsed =
          SftDataset.parse(lines, tokenizer, new SftDataset.Options(256, true, false, null));
      assertEquals(SftDataset.Format.ALPACA, parsed.format());
      assertEquals(1, parsed.examples().size());
    }
    JsonObject stats =
        JsonParser.parseString(Files.readString(dir.resolve("stats.json"))).getAsJsonObject();
    assertEquals(1, stats.get("kept").getAsInt());
    assertEquals(2, stats.getAsJsonObject("rejected").get("similar").getAsInt());
    assertTrue(stats.getAsJsonObject("diversity").has("mean_max_rouge_l"));
    assertTrue(stats.getAsJsonObject("diversity").has("distinct_2"));
    JsonObject manifest =
        JsonParser.parseString(Files.readString(dir.resolve(SynthOutput.MANIFEST)))
            .getAsJsonObject();
    assertEquals(1, manifest.getAsJsonObject("files").get(SelfInstruct.OUTPUT).getAsInt());
  }

  private Tokenizer tinyTokenizer() {
    Path model = dir.resolve("tiny");
    TinyLlama.write(model, 1, new TinyLlama.Size(32, 1, 2, 1, 64));
    return Tokenizer.load(model);
  }

  static final String[] VERBS = {"Write", "Explain", "List", "Describe", "Compare", "Suggest"};
  static final String[] THINGS = {
    "rivers",
    "bridges",
    "clouds",
    "markets",
    "violins",
    "glaciers",
    "orchards",
    "lighthouses",
    "deserts",
    "libraries",
    "volcanoes",
    "bakeries"
  };
  static final String[] HOW = {"briefly", "for a child", "in detail", "with an example"};

  /** A model whose new instructions are drawn from small vocabularies by the seed it is given. */
  static TextGenerator seeded(AtomicInteger calls, int crashAtCall) {
    return (prompts, seed) -> {
      if (calls.incrementAndGet() == crashAtCall) {
        throw new IllegalStateException("the model server went away");
      }
      Random random = new Random(seed);
      List<String> out = new ArrayList<>();
      for (String prompt : prompts) {
        if (prompt.startsWith("Instruction:")) {
          out.add(" <noinput>\nOutput: answer " + random.nextInt(1000));
          continue;
        }
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 3; i++) {
          String task =
              VERBS[random.nextInt(VERBS.length)]
                  + " "
                  + THINGS[random.nextInt(THINGS.length)]
                  + " and "
                  + THINGS[random.nextInt(THINGS.length)]
                  + " "
                  + HOW[random.nextInt(HOW.length)]
                  + ".";
          lines.append(i == 0 ? " " : "\n" + (5 + i) + ". ").append(task);
        }
        out.add(lines.toString());
      }
      return out;
    };
  }

  @Test
  void aCrashedRunResumesToTheUninterruptedResult() throws Exception {
    Path whole = dir.resolve("whole");
    SelfInstruct.Result uninterrupted =
        new SelfInstruct(seeded(new AtomicInteger(), -1), settings(12, 40))
            .run(SEEDS, whole, () -> false);
    assertEquals(12, uninterrupted.kept().size(), "the target count stops it: " + uninterrupted);
    Path crashed = dir.resolve("crashed");
    // calls alternate instructions / instances: the 5th is round 3's instructions
    assertThrows(
        IllegalStateException.class,
        () ->
            new SelfInstruct(seeded(new AtomicInteger(), 5), settings(12, 40))
                .run(SEEDS, crashed, () -> false));
    assertFalse(SynthOutput.complete(crashed), "no manifest before the end");
    assertTrue(Files.exists(crashed.resolve(SelfInstruct.STATE)));
    SelfInstruct.Result resumed =
        new SelfInstruct(seeded(new AtomicInteger(), -1), settings(12, 40))
            .run(SEEDS, crashed, () -> false);
    assertEquals(uninterrupted.kept(), resumed.kept());
    assertEquals(uninterrupted.rejected(), resumed.rejected());
    assertEquals(
        Files.readString(whole.resolve(SelfInstruct.OUTPUT)),
        Files.readString(crashed.resolve(SelfInstruct.OUTPUT)));
  }

  @Test
  void aCancelledRunWritesNoManifestAndCanBeFinishedLater() {
    AtomicInteger rounds = new AtomicInteger();
    SelfInstruct.Result stopped =
        new SelfInstruct(seeded(new AtomicInteger(), -1), settings(50, 40))
            .run(SEEDS, dir, () -> rounds.getAndIncrement() >= 2);
    assertFalse(stopped.finished());
    assertEquals(2, stopped.rounds());
    assertFalse(SynthOutput.complete(dir));
    SelfInstruct.Result finished =
        new SelfInstruct(seeded(new AtomicInteger(), -1), settings(50, 4))
            .run(SEEDS, dir, () -> false);
    assertTrue(finished.finished());
    assertEquals(4, finished.rounds(), "the round budget ends it");
    assertTrue(SynthOutput.complete(dir));
  }

  @Test
  void settingsOutOfRangeAreRefusedByName() {
    IllegalArgumentException rouge =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new SelfInstruct.Settings(
                    1, 1, 1, 1, 0, 0, 3, 20, SelfInstruct.DEFAULT_BLACKLIST, 1));
    assertTrue(rouge.getMessage().contains("rouge_threshold"), rouge.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new SelfInstruct(seeded(new AtomicInteger(), -1), settings(1, 1))
                .run(List.of(), dir, () -> false));
    assertEquals(
        Rejection.values().length,
        SelfInstruct.counts(new SelfInstruct.Result(List.of(), Map.of(), 0, true)).size());
  }
}
