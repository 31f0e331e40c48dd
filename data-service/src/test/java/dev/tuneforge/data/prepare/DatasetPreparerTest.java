package dev.tuneforge.data.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetPreparerTest {
  @TempDir static Path dir;
  static Tokenizer tokenizer;
  static DatasetPreparer preparer;
  static final PreparationOptions DEFAULTS = PreparationOptions.defaults(512, 7);

  @BeforeAll
  static void load() {
    TinyLlama.writeTokenizer(dir);
    tokenizer = Tokenizer.load(dir);
    preparer = new DatasetPreparer(new TokenLengths(tokenizer, ChatTemplate.builtIn("chatml")));
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  static DatasetPreparer.Input input(String name, String content) {
    return new DatasetPreparer.Input(
        "training_file", name, content.getBytes(StandardCharsets.UTF_8));
  }

  static DatasetPreparer.Prepared prepared(String name, String content, PreparationOptions o) {
    return assertInstanceOf(
        DatasetPreparer.Prepared.class, preparer.prepare(input(name, content), null, o));
  }

  static JsonObject first(DatasetPreparer.Prepared prepared) {
    return prepared.splits().values().stream()
        .flatMap(List::stream)
        .min(java.util.Comparator.comparingInt(DatasetPreparer.Example::line))
        .orElseThrow()
        .record();
  }

  static JsonObject json(String text) {
    return JsonParser.parseString(text).getAsJsonObject();
  }

  @Test
  void everyKindIsDetectedAndNormalised() {
    Map<String, String[]> cases =
        Map.of(
            "text",
            new String[] {"{\"text\":\"hello there\",\"id\":3}", "{\"text\":\"hello there\"}"},
            "prompt/completion",
            new String[] {
              "{\"prompt\":\"2+2=\",\"completion\":\"4\"}",
              "{\"prompt\":\"2+2=\",\"completion\":\"4\"}"
            },
            "alpaca",
            new String[] {
              "{\"instruction\":\"Add\",\"output\":\"4\"}",
              "{\"instruction\":\"Add\",\"input\":\"\",\"output\":\"4\"}"
            },
            "messages",
            new String[] {
              "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"yo\",\"weight\":1}]}",
              "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"yo\",\"weight\":1}]}"
            },
            "sharegpt",
            new String[] {
              "{\"conversations\":[{\"from\":\"human\",\"value\":\"hi\"},{\"from\":\"gpt\",\"value\":\"yo\"}]}",
              "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"yo\"}]}"
            },
            "preference",
            new String[] {
              "{\"prompt\":\"q\",\"chosen\":\"good\",\"rejected\":\"bad\",\"margin\":2}",
              "{\"prompt\":\"q\",\"chosen\":\"good\",\"rejected\":\"bad\",\"margin\":2}"
            },
            "openai-dpo",
            new String[] {
              "{\"input\":{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]},\"preferred_output\":[{\"role\":\"assistant\",\"content\":\"good\"}],\"non_preferred_output\":[{\"role\":\"assistant\",\"content\":\"bad\"}]}",
              "{\"prompt\":[{\"role\":\"user\",\"content\":\"q\"}],\"chosen\":[{\"role\":\"assistant\",\"content\":\"good\"}],\"rejected\":[{\"role\":\"assistant\",\"content\":\"bad\"}]}"
            },
            "prompt-only",
            new String[] {"{\"prompt\":\"Tell me\"}", "{\"prompt\":\"Tell me\"}"});
    cases.forEach(
        (name, io) -> {
          DatasetPreparer.Prepared p = prepared("d.jsonl", io[0], DEFAULTS.withSplits(0, 0, null));
          assertEquals(json(io[1]), first(p), name);
          assertTrue(first(p).toString().length() > 0);
        });
  }

  @Test
  void jsonArraysAndCsvReadLikeJsonl() {
    DatasetPreparer.Prepared array =
        prepared(
            "d.json",
            "[{\"prompt\":\"a\",\"completion\":\"b\"},{\"prompt\":\"c\",\"completion\":\"d\"}]",
            DEFAULTS.withSplits(0, 0, null));
    assertEquals(DatasetKind.PROMPT_COMPLETION, array.kind());
    assertEquals(2, array.stats().splits().get("train"));
    DatasetPreparer.Prepared csv =
        prepared(
            "d.csv",
            "prompt,completion\n\"Say \"\"hi\"\"\",hi\nadd,\"1,2\"\n",
            DEFAULTS.withSplits(0, 0, null));
    assertEquals(json("{\"prompt\":\"Say \\\"hi\\\"\",\"completion\":\"hi\"}"), first(csv));
    assertEquals(2, csv.splits().get("train").size());
  }

  @Test
  void splitsAreSeededInTheRequestedRatiosAndDisjoint() {
    String data = texts(200, "record");
    DatasetPreparer.Prepared a = prepared("d.jsonl", data, DEFAULTS);
    DatasetPreparer.Prepared b = prepared("d.jsonl", data, DEFAULTS);
    assertEquals(Map.of("train", 160, "validation", 20, "test", 20), a.stats().splits());
    assertEquals(lines(a, "test"), lines(b, "test"), "same seed, same split");
    DatasetPreparer.Prepared other =
        prepared(
            "d.jsonl",
            data,
            new PreparationOptions(
                null,
                512,
                PreparationOptions.Policy.FAIL,
                PreparationOptions.Policy.DROP,
                100,
                true,
                0,
                0.1,
                0.1,
                null,
                8));
    assertTrue(!lines(a, "test").equals(lines(other, "test")), "another seed, another split");
    List<Integer> all = new ArrayList<>();
    a.splits().values().forEach(s -> s.forEach(e -> all.add(e.line())));
    assertEquals(200, all.stream().distinct().count(), "every record in exactly one split");
  }

  @Test
  void aValidationFileIsUsedAsIsAndTheTestSplitComesFromTraining() {
    DatasetPreparer.Outcome outcome =
        preparer.prepare(
            input("t.jsonl", texts(100, "train")),
            new DatasetPreparer.Input(
                "validation_file", "v.jsonl", texts(7, "valid").getBytes(StandardCharsets.UTF_8)),
            DEFAULTS);
    DatasetPreparer.Prepared p = assertInstanceOf(DatasetPreparer.Prepared.class, outcome);
    assertEquals(Map.of("train", 90, "validation", 7, "test", 10), p.stats().splits());
  }

  @Test
  void stratifiedSplitsKeepEachLabelsShare() {
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      data.append("{\"text\":\"item ")
          .append(i)
          .append("\",\"label\":\"")
          .append(i < 80 ? "common" : "rare")
          .append("\"}\n");
    }
    DatasetPreparer.Prepared p =
        prepared("d.jsonl", data.toString(), DEFAULTS.withSplits(0.1, 0.1, "label"));
    Map<String, Long> testLabels =
        p.splits().get("test").stream()
            .collect(
                java.util.stream.Collectors.groupingBy(
                    e -> e.record().get("label").getAsString(),
                    java.util.stream.Collectors.counting()));
    assertEquals(Map.of("common", 8L, "rare", 2L), testLabels);
    assertEquals(Map.of("common", 80, "rare", 20), p.stats().labels());
  }

  @Test
  void exactAndNearDuplicatesAreRemovedAndCounted() {
    String base =
        "the quick brown fox jumps over the lazy dog while the cat sleeps in the warm sun";
    String data =
        "{\"text\":\""
            + base
            + "\"}\n"
            + "{\"text\":\""
            + base
            + "\"}\n"
            + "{\"text\":\""
            + base
            + " today\"}\n"
            + "{\"text\":\"an entirely different sentence about model training on cpus\"}\n";
    DatasetPreparer.Prepared exact = prepared("d.jsonl", data, DEFAULTS.withSplits(0, 0, null));
    assertEquals(1, exact.stats().exactDuplicatesRemoved());
    assertEquals(3, exact.stats().splits().get("train"));
    DatasetPreparer.Prepared near =
        prepared("d.jsonl", data, DEFAULTS.withSplits(0, 0, null).withNearDuplicates(0.7));
    assertEquals(1, near.stats().exactDuplicatesRemoved());
    assertEquals(1, near.stats().nearDuplicatesRemoved());
    assertEquals(2, near.stats().splits().get("train"));
  }

  @Test
  void overLengthRecordsAreDroppedByDefaultAndInvalidOnesOnRequest() {
    String data =
        "{\"text\":\"short\"}\n"
            + "{\"text\":\""
            + "many words ".repeat(40)
            + "\"}\n"
            + "{\"text\":\"\"}\n"
            + "{\"text\":\"also short\"}\n";
    DatasetPreparer.Outcome failed =
        preparer.prepare(input("d.jsonl", data), null, PreparationOptions.defaults(32, 1));
    DatasetPreparer.Rejected rejected = assertInstanceOf(DatasetPreparer.Rejected.class, failed);
    assertEquals(1, rejected.total(), "over-length is dropped; only the empty text fails");
    assertEquals("training_file line 3: \"text\" is empty", rejected.problems().get(0).toString());
    DatasetPreparer.Prepared dropping =
        prepared(
            "d.jsonl",
            data,
            PreparationOptions.defaults(32, 1)
                .withSplits(0, 0, null)
                .withPolicies(PreparationOptions.Policy.DROP, PreparationOptions.Policy.DROP));
    assertEquals(Map.of("invalid", 1, "over max_seq_length", 1), dropping.stats().dropped());
    assertEquals(2, dropping.stats().splits().get("train"));
    assertTrue(dropping.warnings().get(dropping.warnings().size() - 1).contains("dropped"));
  }

  @Test
  void atMostTheConfiguredNumberOfProblemsIsListedWithTheTotal() {
    String data = "{\"text\":\"\"}\n".repeat(150);
    DatasetPreparer.Rejected rejected =
        assertInstanceOf(
            DatasetPreparer.Rejected.class,
            preparer.prepare(input("d.jsonl", data), null, DEFAULTS));
    assertEquals(150, rejected.total());
    assertEquals(100, rejected.problems().size());
    assertTrue(
        rejected.summary().startsWith("150 problems (first 100 listed): training_file line 1"));
  }

  @Test
  void statisticsDescribeTokensRolesAndTurns() {
    String data =
        "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"yo\"}]}\n"
            + "{\"messages\":[{\"role\":\"user\",\"content\":\"tell me a long story please\"},{\"role\":\"assistant\",\"content\":\"once upon a time\"}]}\n";
    DatasetPreparer.Prepared p = prepared("d.jsonl", data, DEFAULTS.withSplits(0, 0, null));
    assertEquals(Map.of("assistant", 2, "system", 1, "user", 2), p.stats().roles());
    assertEquals(2.5, p.stats().meanTurns());
    DatasetStats.Tokens tokens = p.stats().tokens();
    List<Integer> lengths = p.splits().get("train").stream().map(e -> e.tokens()).sorted().toList();
    assertEquals(lengths.get(0), tokens.min());
    assertEquals(lengths.get(1), tokens.max());
    assertEquals(lengths.get(0), tokens.median());
    assertEquals(lengths.get(1), tokens.p95());
    assertEquals(lengths.get(0) + lengths.get(1), tokens.total());
    assertEquals(2, p.stats().tokenHistogram().values().stream().mapToInt(i -> i).sum());
    int rendered =
        tokenizer.encodePlain(
                ChatTemplate.builtIn("chatml")
                    .render(
                        List.of(
                            dev.tuneforge.llm.data.ChatMessage.user("tell me a long story please"),
                            new dev.tuneforge.llm.data.ChatMessage(
                                "assistant", "once upon a time")),
                        false,
                        Map.of("bos_token", "<s>", "eos_token", "</s>")))
            .length;
    assertEquals(rendered, tokens.max(), "lengths are counted as training renders them");
  }

  @Test
  void parallelPreparationGivesTheSameResultAsOneThread() {
    String data = texts(1000, "row") + "{\"text\":\"\"}\n" + texts(500, "more");
    DatasetPreparer parallel =
        new DatasetPreparer(new TokenLengths(tokenizer, ChatTemplate.builtIn("chatml")), 4);
    PreparationOptions dropping =
        DEFAULTS.withPolicies(PreparationOptions.Policy.DROP, PreparationOptions.Policy.DROP);
    DatasetPreparer.Prepared one = prepared("d.jsonl", data, dropping);
    DatasetPreparer.Prepared four =
        assertInstanceOf(
            DatasetPreparer.Prepared.class,
            parallel.prepare(input("d.jsonl", data), null, dropping));
    for (String split : List.of("train", "validation", "test")) {
      assertEquals(lines(one, split), lines(four, split), split);
    }
    assertEquals(one.stats(), four.stats());
    String bad = texts(600, "x") + "{\"text\":3}\n" + texts(300, "y") + "{\"text\":\"\"}\n";
    assertEquals(
        preparer.prepare(input("d.jsonl", bad), null, DEFAULTS),
        parallel.prepare(input("d.jsonl", bad), null, DEFAULTS));
  }

  private static String texts(int count, String prefix) {
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < count; i++) {
      data.append("{\"text\":\"").append(prefix).append(' ').append(i).append("\"}\n");
    }
    return data.toString();
  }

  private static List<Integer> lines(DatasetPreparer.Prepared p, String split) {
    return p.splits().get(split).stream().map(DatasetPreparer.Example::line).toList();
  }
}
