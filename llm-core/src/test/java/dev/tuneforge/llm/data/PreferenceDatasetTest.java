package dev.tuneforge.llm.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.preference.PreferencePair;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreferenceDatasetTest {
  @TempDir static Path dir;
  static Tokenizer tokenizer;
  static final ChatTemplate CHATML = ChatTemplate.builtIn("chatml");
  static final PreferenceDataset.Options OPTIONS = new PreferenceDataset.Options(64, 128, CHATML);

  @BeforeAll
  static void load() {
    TinyLlama.write(dir, 1, TinyLlama.Size.DEFAULT);
    tokenizer = Tokenizer.load(dir);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  @Test
  void plainRecordsTokenizeThePromptAndEndResponsesWithEos() {
    List<PreferencePair> pairs =
        PreferenceDataset.parse(
            List.of(
                "{\"prompt\": \"Is it?\", \"chosen\": \" yes\", \"rejected\": \" no\", \"margin\": 1.5}",
                "",
                "{\"prompt\": \"Again\", \"chosen\": \" a\", \"rejected\": \" b\"}"),
            tokenizer,
            OPTIONS);
    assertEquals(2, pairs.size());
    PreferencePair first = pairs.get(0);
    assertArrayEquals(tokenizer.encode("Is it?"), first.prompt());
    int eos = tokenizer.special().eosId();
    assertArrayEquals(append(tokenizer.encodePlain(" yes"), eos), first.chosen());
    assertArrayEquals(append(tokenizer.encodePlain(" no"), eos), first.rejected());
    assertEquals(1.5, first.margin());
    assertEquals(0.0, pairs.get(1).margin());
  }

  @Test
  void conversationalRecordsGoThroughTheChatTemplate() {
    String line =
        "{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"}],"
            + " \"chosen\": [{\"role\": \"assistant\", \"content\": \"hello\"}],"
            + " \"rejected\": [{\"role\": \"assistant\", \"content\": \"go\"}]}";
    PreferencePair pair = PreferenceDataset.parse(List.of(line), tokenizer, OPTIONS).get(0);
    Map<String, String> special = Map.of("bos_token", "<s>", "eos_token", "</s>");
    String prompt = CHATML.render(List.of(ChatMessage.user("hi")), true, special);
    assertEquals("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", prompt);
    assertArrayEquals(tokenizer.encodePlain(prompt), pair.prompt());
    assertArrayEquals(tokenizer.encodePlain("hello<|im_end|>\n"), pair.chosen());
    assertArrayEquals(tokenizer.encodePlain("go<|im_end|>\n"), pair.rejected());
    assertEquals(
        List.of(tokenizer.decode(pair.prompt(), false) + tokenizer.decode(pair.chosen(), false)),
        List.of(
            CHATML.render(
                List.of(ChatMessage.user("hi"), new ChatMessage("assistant", "hello")),
                false,
                special)));
  }

  @Test
  void longPromptsKeepTheirEndAndResponsesFitMaxLength() {
    PreferenceDataset.Options tight = new PreferenceDataset.Options(4, 6, null);
    PreferencePair pair =
        PreferenceDataset.parse(
                List.of("{\"prompt\": \"abcdefgh\", \"chosen\": \"xyz\", \"rejected\": \"q\"}"),
                tokenizer,
                tight)
            .get(0);
    int[] fullPrompt = tokenizer.encode("abcdefgh");
    assertArrayEquals(
        java.util.Arrays.copyOfRange(fullPrompt, fullPrompt.length - 4, fullPrompt.length),
        pair.prompt());
    assertEquals(2, pair.chosen().length, "6 - 4 tokens of room");
    assertEquals(2, pair.rejected().length, "q and EOS fit");
  }

  @Test
  void promptOnlyRecordsForPpo() {
    List<int[]> prompts =
        PreferenceDataset.parsePrompts(
            List.of(
                "{\"prompt\": \"Tell me\"}",
                "{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"}]}"),
            tokenizer,
            OPTIONS);
    assertArrayEquals(tokenizer.encode("Tell me"), prompts.get(0));
    assertArrayEquals(
        tokenizer.encodePlain("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"),
        prompts.get(1));
  }

  @Test
  void badLinesNameTheLineTheFieldAndTheRule() {
    assertEquals(
        "dataset line 2: field \"rejected\" is missing; a preference record needs \"prompt\","
            + " \"chosen\" and \"rejected\"",
        error(
            "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}",
            "{\"prompt\":\"a\",\"chosen\":\"b\"}"));
    assertEquals(
        "dataset line 1: field \"chosen\" must be a list of messages, as \"prompt\" is",
        error(
            "{\"prompt\":[{\"role\":\"user\",\"content\":\"a\"}],\"chosen\":\"b\",\"rejected\":[]}"));
    assertEquals(
        "dataset line 1: field \"chosen\" must hold assistant messages but has role \"user\"",
        error(
            "{\"prompt\":[{\"role\":\"user\",\"content\":\"a\"}],"
                + "\"chosen\":[{\"role\":\"user\",\"content\":\"b\"}],"
                + "\"rejected\":[{\"role\":\"assistant\",\"content\":\"c\"}]}"));
    assertEquals(
        "dataset line 1: field \"margin\" must be a number but was \"big\"",
        error("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\",\"margin\":\"big\"}"));
    assertEquals(
        "dataset line 1: field \"rejected\" must be a string but was 3",
        error("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":3}"));
    assertEquals(
        "dataset line 1: conversational records need a chat template (the model's or a built-in"
            + " one)",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    PreferenceDataset.parse(
                        List.of(
                            "{\"prompt\":[{\"role\":\"user\",\"content\":\"a\"}],"
                                + "\"chosen\":[{\"role\":\"assistant\",\"content\":\"b\"}],"
                                + "\"rejected\":[{\"role\":\"assistant\",\"content\":\"c\"}]}"),
                        tokenizer,
                        new PreferenceDataset.Options(8, 16, null)))
            .getMessage());
  }

  private static String error(String... lines) {
    return assertThrows(
            IllegalArgumentException.class,
            () -> PreferenceDataset.parse(List.of(lines), tokenizer, OPTIONS))
        .getMessage();
  }

  private static int[] append(int[] ids, int token) {
    int[] extended = java.util.Arrays.copyOf(ids, ids.length + 1);
    extended[ids.length] = token;
    return extended;
  }
}
