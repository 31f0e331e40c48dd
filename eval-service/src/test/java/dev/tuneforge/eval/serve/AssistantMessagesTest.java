package dev.tuneforge.eval.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The assistant message as OpenAI's SDK reads it: a tool call the model writes in its template's
 * format becomes {@code tool_calls} with arguments as a JSON string, content null and finish reason
 * {@code tool_calls}; without tools, or with {@code tool_choice: "none"}, the text stays content.
 */
class AssistantMessagesTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String CALL =
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";

  @Test
  void aCallToAnOfferedToolBecomesToolCalls() throws Exception {
    JsonNode body =
        JSON.readTree(
            "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\","
                + " \"parameters\": {\"type\": \"object\"}}}]}");
    Set<String> tools = AssistantMessages.toolNames(body);
    assertEquals(Set.of("get_weather"), tools);
    ObjectNode message = AssistantMessages.message(CALL, tools);
    assertTrue(message.get("content").isNull());
    assertTrue(message.get("refusal").isNull());
    JsonNode call = message.get("tool_calls").get(0);
    assertTrue(call.get("id").asText().matches("call_[0-9a-f]{24}"), call.toString());
    assertEquals("function", call.get("type").asText());
    assertEquals("get_weather", call.get("function").get("name").asText());
    assertEquals(
        "Paris",
        JSON.readTree(call.get("function").get("arguments").asText()).get("city").asText(),
        "arguments is a JSON string, as OpenAI sends it");
    assertEquals("tool_calls", AssistantMessages.finishReason(CALL, tools, "stop"));
    assertEquals("length", AssistantMessages.finishReason(CALL, tools, "length"));
    assertEquals(
        0,
        AssistantMessages.toolCalls(AssistantMessages.calls(CALL, tools).get(), true)
            .get(0)
            .get("index")
            .asInt());
  }

  @Test
  void withoutToolsOrWithToolChoiceNoneTheTextIsContent() throws Exception {
    JsonNode none =
        JSON.readTree(
            "{\"tool_choice\": \"none\", \"tools\": [{\"type\": \"function\","
                + " \"function\": {\"name\": \"get_weather\"}}]}");
    for (Set<String> tools :
        java.util.List.of(Set.<String>of(), AssistantMessages.toolNames(none))) {
      ObjectNode message = AssistantMessages.message(CALL, tools);
      assertEquals(CALL, message.get("content").asText());
      assertTrue(!message.has("tool_calls"));
      assertEquals("stop", AssistantMessages.finishReason(CALL, tools, "stop"));
    }
  }
}
