package dev.tuneforge.llm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Assistant-only masks equal TRL's (tools/reference/trl_masks.py): TRL's SFTTrainer renders a
 * recognised published template through its own training variant, and transformers marks that
 * variant's generation blocks. For the published Qwen 2.5 template and Qwen 3 in both revisions,
 * Phi-3 / Phi-3.5, and Gemma 2 / 3 (masked turn by turn, no variant needed), the text and the
 * code-point spans here are those TRL's training templates give under Debian's jinja2: Qwen 2.5's
 * span starts at the newline after "assistant", one character before the turn-by-turn rule's, Qwen
 * 3 keeps every assistant turn's think block, and Phi-3 trains the closing eos_token.
 */
class TrlMaskParityTest {
  static final Path REFERENCE = Path.of("src/test/resources/reference");

  @Test
  void textAndAssistantSpansEqualTrlsTrainingTemplates() throws Exception {
    JsonObject golden =
        JsonParser.parseString(Files.readString(REFERENCE.resolve("trl-masks.json")))
            .getAsJsonObject();
    int checked = 0;
    for (JsonElement element : golden.getAsJsonArray("cases")) {
      JsonObject c = element.getAsJsonObject();
      String published = c.get("published").getAsString();
      JsonObject fixture = fixture(published);
      ChatTemplate template =
          new ChatTemplate(published, fixture.get("chat_template").getAsString());
      Map<String, String> special = new HashMap<>();
      for (String token : new String[] {"bos_token", "eos_token"}) {
        if (fixture.has(token)) {
          special.put(token, fixture.get(token).getAsString());
        }
      }
      List<ChatMessage> messages = SftDataset.messages(c.get("messages"), "messages", 1);
      JsonObject record = new JsonObject();
      record.add("tools", c.get("tools"));
      List<?> tools = SftDataset.tools(record, 1);
      String name = published + "/" + c.get("conversation").getAsString();
      if (c.has("error")) { // the template refuses the conversation, in jinja2 as here
        IllegalArgumentException refused =
            org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () ->
                    template.forAssistantMasks().renderWithAssistantSpans(messages, tools, special),
                name);
        assertTrue(
            refused.getMessage().endsWith("raise_exception: " + c.get("error").getAsString()),
            name + ": " + refused.getMessage());
        checked++;
        continue;
      }
      ChatTemplate.Rendered rendered =
          template.forAssistantMasks().renderWithAssistantSpans(messages, tools, special);
      assertEquals(c.get("text").getAsString(), rendered.text(), name);
      List<List<Integer>> expected = new ArrayList<>();
      c.getAsJsonArray("spans")
          .forEach(
              s ->
                  expected.add(
                      List.of(
                          s.getAsJsonArray().get(0).getAsInt(),
                          s.getAsJsonArray().get(1).getAsInt())));
      List<List<Integer>> ours = new ArrayList<>();
      String text = rendered.text();
      for (int[] span : rendered.assistantSpans()) {
        ours.add(List.of(text.codePointCount(0, span[0]), text.codePointCount(0, span[1])));
      }
      assertEquals(expected, ours, name + " spans in code points");
      checked++;
    }
    assertEquals(42, checked, "seven templates, six conversations each");
  }

  /**
   * Only the recognised texts are swapped: a template with generation blocks, and an unknown one
   * (here the published Qwen 2.5 with one extra space), are used as they are.
   */
  @Test
  void onlyRecognisedTemplatesAreSwapped() throws Exception {
    String qwen = fixture("qwen2_5").get("chat_template").getAsString();
    ChatTemplate published = new ChatTemplate("default", qwen);
    ChatTemplate variant = published.forAssistantMasks();
    assertNotSame(published, variant);
    assertTrue(variant.source().contains("{%- generation %}"));
    assertSame(variant, variant.forAssistantMasks(), "a template with generation blocks is kept");
    ChatTemplate edited = new ChatTemplate("default", qwen + " ");
    assertSame(edited, edited.forAssistantMasks());
  }

  private static JsonObject fixture(String name) throws Exception {
    return JsonParser.parseString(
            Files.readString(REFERENCE.resolve("published-templates/" + name + ".json")))
        .getAsJsonObject();
  }
}
