package dev.tuneforge.llm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {
  static final Map<String, String> CHATML_SPECIAL =
      Map.of("bos_token", "", "eos_token", "<|im_end|>");

  /**
   * Every built-in template renders what Python's jinja2 renders
   * (tools/reference/chat_templates.py).
   */
  @Test
  void builtInTemplatesRenderLikeJinja2() throws Exception {
    JsonArray cases =
        JsonParser.parseString(
                Files.readString(Path.of("src/test/resources/reference/chat-templates.json")))
            .getAsJsonArray();
    assertEquals(32, cases.size());
    for (JsonElement element : cases) {
      JsonObject c = element.getAsJsonObject();
      List<ChatMessage> messages = new ArrayList<>();
      for (JsonElement m : c.getAsJsonArray("messages")) {
        messages.add(
            new ChatMessage(
                m.getAsJsonObject().get("role").getAsString(),
                m.getAsJsonObject().get("content").getAsString()));
      }
      String rendered =
          ChatTemplate.builtIn(c.get("template").getAsString())
              .render(
                  messages,
                  c.get("add_generation_prompt").getAsBoolean(),
                  Map.of(
                      "bos_token",
                      c.get("bos_token").getAsString(),
                      "eos_token",
                      c.get("eos_token").getAsString()));
      assertEquals(c.get("expected").getAsString(), rendered, c.get("template") + " " + messages);
    }
  }

  @Test
  void assistantSpansFromTurnByTurnRendering() {
    List<ChatMessage> conversation =
        List.of(
            ChatMessage.user("Hi"),
            ChatMessage.assistant("Hello."),
            ChatMessage.user("Bye"),
            ChatMessage.assistant("Ciao."));
    ChatTemplate.Rendered rendered =
        ChatTemplate.builtIn("chatml").renderWithAssistantSpans(conversation, CHATML_SPECIAL);
    List<String> spans =
        rendered.assistantSpans().stream().map(s -> rendered.text().substring(s[0], s[1])).toList();
    assertEquals(List.of("Hello.<|im_end|>\n", "Ciao.<|im_end|>\n"), spans);
  }

  @Test
  void assistantSpansFromGenerationBlocks() {
    ChatTemplate marked =
        new ChatTemplate(
            "marked",
            "{% for m in messages %}<|{{ m['role'] }}|>{% if m['role'] == 'assistant' %}"
                + "{% generation %}{{ m['content'] }}</s>{% endgeneration %}{% else %}{{ m['content'] }}{% endif %}"
                + "\n{% endfor %}");
    ChatTemplate.Rendered rendered =
        marked.renderWithAssistantSpans(
            List.of(ChatMessage.user("2+2?"), ChatMessage.assistant("4")), Map.of());
    // trim_blocks drops the newline right after {% endif %}, as in Python's jinja2
    assertEquals("<|user|>2+2?<|assistant|>4</s>", rendered.text());
    assertEquals(1, rendered.assistantSpans().size());
    int[] span = rendered.assistantSpans().get(0);
    assertEquals("4</s>", rendered.text().substring(span[0], span[1]));
  }

  @Test
  void raiseExceptionInATemplateIsANamedError() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ChatTemplate.builtIn("llama2")
                    .render(List.of(ChatMessage.assistant("first?")), false, Map.of()));
    assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    assertTrue(e.getMessage().startsWith("chat template \"llama2\" failed"), e.getMessage());
  }

  @Test
  void templateResolutionFollowsTransformers(@TempDir Path dir) throws Exception {
    JsonObject config = new JsonObject();
    config.addProperty("chat_template", "from-config");
    assertEquals(
        "from-config", ChatTemplate.fromModel(dir, config, "default").orElseThrow().source());
    Files.writeString(dir.resolve("chat_template.jinja"), "from-file");
    assertEquals(
        "from-file", ChatTemplate.fromModel(dir, config, "default").orElseThrow().source());
    Files.createDirectories(dir.resolve("additional_chat_templates"));
    Files.writeString(dir.resolve("additional_chat_templates/tool_use.jinja"), "tools");
    assertEquals("tools", ChatTemplate.fromModel(dir, config, "tool_use").orElseThrow().source());
    assertTrue(ChatTemplate.fromModel(dir, new JsonObject(), "rag").isEmpty());
  }

  /**
   * Message text is data: {@code {{ 7 * 7 }}}, a GitHub Actions secret and a C++ initializer render
   * literally (Jinjava evaluated them, printing 49, dropping the secret and failing on the C++).
   */
  @Test
  void messageTextIsNeverTemplateCode() {
    List<String> texts =
        List.of("What is {{ 7 * 7 }}?", "${{ secrets.TOKEN }}", "int a[2][2] = {{1, 2}, {3, 4}};");
    for (String text : texts) {
      String rendered =
          ChatTemplate.builtIn("chatml")
              .render(List.of(ChatMessage.user(text)), false, CHATML_SPECIAL);
      assertEquals("<|im_start|>user\n" + text + "<|im_end|>\n", rendered);
    }
  }

  /**
   * Tool schemas and OpenAI's tool-call turn (content null) reach the template as transformers
   * passes them.
   */
  @Test
  void toolsAndToolCallsReachTheTemplate() {
    ChatTemplate template =
        new ChatTemplate(
            "tools",
            "{%- if tools %}{{ tools | tojson }}\n{% endif %}{%- for m in messages %}{{ m.role }}:"
                + "{% if m.content is not none %}{{ m.content }}{% endif %}"
                + "{% for call in m.tool_calls or [] %}[{{ call.function.name }}"
                + " {{ call.function.arguments | tojson }}]{% endfor %}"
                + "{% if m.tool_call_id is defined %}#{{ m.tool_call_id }}{% endif %}{{ '\\n' }}{% endfor %}");
    Map<String, Object> call =
        Map.of(
            "id",
            "c1",
            "type",
            "function",
            "function",
            Map.of("name", "get_weather", "arguments", Map.of("city", "Paris")));
    List<ChatMessage> messages =
        List.of(
            ChatMessage.user("Weather?"),
            new ChatMessage("assistant", null, List.of(call), null, null),
            new ChatMessage("tool", "20", null, "c1", "get_weather"));
    List<Object> tools = List.of(Map.of("type", "function"));
    assertEquals(
        "[{\"type\": \"function\"}]\nuser:Weather?\nassistant:[get_weather {\"city\": \"Paris\"}]\n"
            + "tool:20#c1\n",
        template.render(messages, tools, false, Map.of()));
    assertThrows(IllegalArgumentException.class, () -> new ChatMessage("assistant", null));
  }
}
