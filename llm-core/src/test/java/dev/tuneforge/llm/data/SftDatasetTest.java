package dev.tuneforge.llm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftDatasetTest {
  @TempDir static Path dir;
  static Tokenizer tokenizer;
  static final SftDataset.Options OPTIONS =
      new SftDataset.Options(512, true, true, ChatTemplate.builtIn("chatml"));

  @BeforeAll
  static void load() {
    TinyLlama.write(dir, 1, TinyLlama.Size.DEFAULT);
    tokenizer = Tokenizer.load(dir);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  static String trainedText(TokenizedExample example) {
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < example.ids().length; i++) {
      if (example.trained()[i]) {
        ids.add(example.ids()[i]);
      }
    }
    return tokenizer.decode(ids.stream().mapToInt(Integer::intValue).toArray(), false);
  }

  static TokenizedExample one(String line, SftDataset.Options options) {
    return SftDataset.parse(List.of(line), tokenizer, options).examples().get(0);
  }

  @Test
  void promptCompletionTrainsOnlyTheCompletionAndEos() {
    TokenizedExample example = one("{\"prompt\":\"2+2=\",\"completion\":\"4\"}", OPTIONS);
    assertEquals("4</s>", trainedText(example));
    assertEquals("<s>2+2=4</s>", tokenizer.decode(example.ids(), false));
    TokenizedExample everything =
        one(
            "{\"prompt\":\"2+2=\",\"completion\":\"4\"}",
            new SftDataset.Options(512, false, false, null));
    assertEquals("<s>2+2=4</s>", trainedText(everything));
  }

  @Test
  void alpacaUsesTheStanfordPromptAndTrainsTheOutput() {
    TokenizedExample example =
        one("{\"instruction\":\"Add\",\"input\":\"2 and 2\",\"output\":\"4\"}", OPTIONS);
    assertEquals("4</s>", trainedText(example));
    String text = tokenizer.decode(example.ids(), true);
    assertEquals(
        SftDataset.ALPACA_PREAMBLE
            + "### Instruction:\nAdd\n\n### Input:\n2 and 2\n\n### Response:\n4",
        text);
  }

  @Test
  void textTrainsEverythingAndMessagesTrainAssistantTurns() {
    assertEquals("<s>hello</s>", trainedText(one("{\"text\":\"hello\"}", OPTIONS)));
    TokenizedExample chat =
        one(
            "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Yo\"}]}",
            OPTIONS);
    assertEquals("Yo<|im_end|>\n", trainedText(chat));
  }

  @Test
  void truncationKeepsTheStartAndDropsExamplesLeftWithoutTrainedTokens() {
    SftDataset.Options short6 = new SftDataset.Options(6, true, true, null);
    SftDataset.Result result =
        SftDataset.parse(
            List.of(
                "{\"prompt\":\"abc\",\"completion\":\"defgh\"}",
                "{\"prompt\":\"abcdefghij\",\"completion\":\"k\"}"),
            tokenizer,
            short6);
    assertEquals(1, result.examples().size());
    assertEquals(6, result.examples().get(0).ids().length);
    assertEquals(2, result.truncated());
    assertEquals(1, result.droppedWithoutTrainedTokens());
  }

  @Test
  void badLinesNameTheLineFieldAndRule() {
    assertEquals(
        "dataset line 2: field \"completion\" is missing",
        error(List.of("{\"prompt\":\"a\",\"completion\":\"b\"}", "{\"prompt\":\"a\"}")));
    assertEquals(
        "dataset line 1: field \"output\" must be a string but was 42",
        error(List.of("{\"instruction\":\"a\",\"output\":42}")));
    assertEquals(
        "dataset line 3: messages[1]: message role \"robot\" is not one of [assistant, system, tool, user]",
        error(
            List.of(
                "",
                "",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"robot\",\"content\":\"b\"}]}")));
    assertEquals(
        "dataset line 2: a TEXT record in a PROMPT_COMPLETION dataset; use one shape per file",
        error(List.of("{\"prompt\":\"a\",\"completion\":\"b\"}", "{\"text\":\"c\"}")));
    assertEquals(
        "dataset line 1: no known fields [question]; expected \"text\", \"prompt\"+\"completion\", \"instruction\"+\"output\" or \"messages\"",
        error(List.of("{\"question\":\"a\"}")));
  }

  private static String error(List<String> lines) {
    return assertThrows(
            IllegalArgumentException.class, () -> SftDataset.parse(lines, tokenizer, OPTIONS))
        .getMessage();
  }

  /**
   * Without assistant_only_loss a chat record trains on the whole sequence, so a template that does
   * not render turn by turn (Qwen 3's drops earlier reasoning) still trains; with it, the refusal
   * names the dataset line.
   */
  @Test
  void chatWithoutAssistantOnlyLossNeedsNoTurnByTurnTemplate() {
    ChatTemplate changesEarlierTurns =
        new ChatTemplate(
            "last-marked",
            "{% for m in messages %}{{ m.content }}{% if loop.last %}!{% endif %}{{ '\\n' }}{% endfor %}");
    String line =
        "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"},"
            + " {\"role\": \"assistant\", \"content\": \"yo\"}]}";
    TokenizedExample example =
        one(line, new SftDataset.Options(512, true, false, changesEarlierTurns));
    assertEquals("hi\nyo!\n", trainedText(example));
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> one(line, new SftDataset.Options(512, true, true, changesEarlierTurns)));
    assertTrue(
        refused.getMessage().startsWith("dataset line 1: chat template"), refused.getMessage());
  }

  /** OpenAI's tool-call shape trains: content null with tool_calls, a tool turn, record tools. */
  @Test
  void toolCallRecordsTrain() {
    String line =
        "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}],"
            + " \"messages\": [{\"role\": \"user\", \"content\": \"go\"},"
            + " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"1\","
            + " \"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": \"{}\"}}]},"
            + " {\"role\": \"tool\", \"tool_call_id\": \"1\", \"content\": \"ok\"},"
            + " {\"role\": \"assistant\", \"content\": \"done\"}]}";
    ChatTemplate template =
        new ChatTemplate(
            "t",
            "{{ tools[0].function.name }};{% for m in messages %}{{ m.role }}:{{ m.content }}"
                + "{% for c in m.tool_calls or [] %}<{{ c.function.name }}>{% endfor %}{{ '\\n' }}{% endfor %}");
    TokenizedExample example = one(line, new SftDataset.Options(512, true, false, template));
    assertEquals("f;user:go\nassistant:None<f>\ntool:ok\nassistant:done\n", trainedText(example));
  }
}
