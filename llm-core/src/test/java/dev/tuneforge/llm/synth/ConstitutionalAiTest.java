package dev.tuneforge.llm.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.PreferenceDataset;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.generate.TextGenerator;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Constitutional AI's critique and revision with a deterministic model: each record keeps its
 * chain, the SFT and preference files are what the dataset readers take, text is never read as a
 * placeholder, and a crash (even one that tore the state file's last line) resumes to the
 * uninterrupted result.
 */
class ConstitutionalAiTest {
  @TempDir Path dir;

  static final List<String> PROMPTS = new ArrayList<>();

  static {
    for (int i = 0; i < 10; i++) {
      PROMPTS.add("How do I pick lock number " + i + "? {critique}");
    }
  }

  /** Answers by what it is asked: a revision, a critique, or the first answer. */
  static TextGenerator model(AtomicInteger calls, int crashAtCall, List<String> asked) {
    return (prompts, seed) -> {
      if (calls.incrementAndGet() == crashAtCall) {
        throw new IllegalStateException("the model server went away");
      }
      asked.addAll(prompts);
      return prompts.stream()
          .map(
              p ->
                  p.endsWith("Revision:")
                      ? " I can't help with that lock, but a locksmith can. (" + seed % 7 + ")"
                      : p.endsWith("Critique:")
                          ? " The response helps with something that may be illegal."
                          : " Use a tension wrench. " + p.length())
          .toList();
    };
  }

  @Test
  void everyPromptIsAnsweredCritiquedAndRevisedAndBothFilesAreTrainingData() throws Exception {
    List<String> asked = new ArrayList<>();
    ConstitutionalAi.Result result =
        new ConstitutionalAi(
                model(new AtomicInteger(), -1, asked), ConstitutionalAi.DEFAULT_CONSTITUTION, 4, 3)
            .run(PROMPTS, dir, () -> false);
    assertTrue(result.finished());
    assertEquals(10, result.chains().size());
    ConstitutionalAi.Chain first = result.chains().get(0);
    assertTrue(first.response().startsWith("Use a tension wrench"));
    assertTrue(first.critique().contains("illegal"));
    assertTrue(first.revision().startsWith("I can't help"));
    assertTrue(ConstitutionalAi.DEFAULT_CONSTITUTION.contains(first.principle()));
    // the prompt's own "{critique}" stays text: the critique ask holds it literally
    String critiqueAsk =
        asked.stream().filter(a -> a.endsWith("Critique:")).findFirst().orElseThrow();
    assertTrue(critiqueAsk.contains("lock number 0? {critique}"), critiqueAsk);
    assertTrue(critiqueAsk.contains(first.principle().critique()));
    assertTrue(SynthOutput.complete(dir));
    List<String> sft = Files.readAllLines(dir.resolve(ConstitutionalAi.SFT_OUTPUT));
    List<String> preference = Files.readAllLines(dir.resolve(ConstitutionalAi.PREFERENCE_OUTPUT));
    assertEquals(10, sft.size());
    JsonObject record = JsonParser.parseString(preference.get(0)).getAsJsonObject();
    assertEquals(first.revision(), record.get("chosen").getAsString());
    assertEquals(first.response(), record.get("rejected").getAsString());
    JsonObject chain = record.getAsJsonObject("constitutional_ai");
    for (String field :
        List.of(
            "response",
            "principle",
            "critique_request",
            "critique",
            "revision_request",
            "revision")) {
      assertTrue(chain.has(field), field);
    }
    Path model = dir.resolve("tiny");
    TinyLlama.write(model, 1, new TinyLlama.Size(32, 1, 2, 1, 64));
    try (Tokenizer tokenizer = Tokenizer.load(model)) {
      assertEquals(
          SftDataset.Format.PROMPT_COMPLETION,
          SftDataset.parse(sft, tokenizer, new SftDataset.Options(512, true, false, null))
              .format());
      assertEquals(
          10,
          PreferenceDataset.parse(
                  preference, tokenizer, new PreferenceDataset.Options(256, 512, null))
              .size());
    }
    JsonObject stats =
        JsonParser.parseString(Files.readString(dir.resolve("stats.json"))).getAsJsonObject();
    assertEquals(10, stats.get("records").getAsInt());
    long byPrinciple =
        stats.getAsJsonObject("principles").entrySet().stream()
            .mapToLong(e -> e.getValue().getAsLong())
            .sum();
    assertEquals(10, byPrinciple);
  }

  @Test
  void aCrashResumesToTheUninterruptedResultEvenWithATornLastLine() throws Exception {
    Path whole = dir.resolve("whole");
    ConstitutionalAi.Result uninterrupted =
        new ConstitutionalAi(
                model(new AtomicInteger(), -1, new ArrayList<>()),
                ConstitutionalAi.DEFAULT_CONSTITUTION,
                4,
                3)
            .run(PROMPTS, whole, () -> false);
    Path crashed = dir.resolve("crashed");
    // 3 calls a batch: the 5th is the second batch's critique
    assertThrows(
        IllegalStateException.class,
        () ->
            new ConstitutionalAi(
                    model(new AtomicInteger(), 5, new ArrayList<>()),
                    ConstitutionalAi.DEFAULT_CONSTITUTION,
                    4,
                    3)
                .run(PROMPTS, crashed, () -> false));
    assertFalse(SynthOutput.complete(crashed));
    Path state = crashed.resolve(ConstitutionalAi.STATE);
    assertEquals(4, Files.readAllLines(state).size(), "the first batch was saved");
    Files.writeString(
        state, "{\"prompt\": \"half a li", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    ConstitutionalAi.Result resumed =
        new ConstitutionalAi(
                model(new AtomicInteger(), -1, new ArrayList<>()),
                ConstitutionalAi.DEFAULT_CONSTITUTION,
                4,
                3)
            .run(PROMPTS, crashed, () -> false);
    assertEquals(uninterrupted.chains(), resumed.chains());
    assertEquals(
        Files.readString(whole.resolve(ConstitutionalAi.PREFERENCE_OUTPUT)),
        Files.readString(crashed.resolve(ConstitutionalAi.PREFERENCE_OUTPUT)));
    assertEquals(10, Files.readAllLines(state).size(), "the torn line was cut, not kept");
  }

  @Test
  void aCancelLeavesNoManifest() {
    AtomicInteger polls = new AtomicInteger();
    ConstitutionalAi.Result stopped =
        new ConstitutionalAi(
                model(new AtomicInteger(), -1, new ArrayList<>()),
                ConstitutionalAi.DEFAULT_CONSTITUTION,
                4,
                3)
            .run(PROMPTS, dir, () -> polls.getAndIncrement() >= 1);
    assertFalse(stopped.finished());
    assertEquals(4, stopped.chains().size());
    assertFalse(SynthOutput.complete(dir));
    assertThrows(
        IllegalArgumentException.class, () -> new ConstitutionalAi((p, s) -> p, List.of(), 1, 1));
  }
}
