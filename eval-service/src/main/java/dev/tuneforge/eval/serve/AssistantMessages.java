package dev.tuneforge.eval.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tuneforge.llm.generate.ToolCalls;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The assistant message of a chat completion in OpenAI's shape: {@code content}, {@code refusal:
 * null}, and, when the request offered tools and the model called them in its template's format,
 * {@code tool_calls} with each call's arguments as a JSON string (finish reason {@code
 * tool_calls}).
 */
final class AssistantMessages {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AssistantMessages() {}

  /**
   * The names of the request's function tools, empty when it offers none or sets {@code
   * tool_choice: "none"}.
   */
  static Set<String> toolNames(JsonNode body) {
    Set<String> names = new LinkedHashSet<>();
    JsonNode choice = body.get("tool_choice");
    if (choice != null && choice.isTextual() && choice.asText().equals("none")) {
      return names;
    }
    JsonNode tools = body.get("tools");
    if (tools != null && tools.isArray()) {
      for (JsonNode tool : tools) {
        JsonNode name = tool.path("function").path("name");
        if (name.isTextual()) {
          names.add(name.asText());
        }
      }
    }
    return names;
  }

  /** The tool calls {@code text} makes to {@code tools}, if any. */
  static Optional<ToolCalls.Parsed> calls(String text, Set<String> tools) {
    return ToolCalls.parse(text, tools);
  }

  /** {@code {role, content, refusal, tool_calls?}} for the generated {@code text}. */
  static ObjectNode message(String text, Set<String> tools) {
    ObjectNode message = JSON.createObjectNode();
    message.put("role", "assistant");
    Optional<ToolCalls.Parsed> parsed = calls(text, tools);
    if (parsed.isEmpty()) {
      message.put("content", text);
    } else {
      message.put("content", parsed.get().content());
      message.set("tool_calls", toolCalls(parsed.get(), false));
    }
    message.putNull("refusal");
    return message;
  }

  /** OpenAI's finish reason: {@code tool_calls} when a finished answer made calls. */
  static String finishReason(String text, Set<String> tools, String generated) {
    return generated.equals("stop") && calls(text, tools).isPresent() ? "tool_calls" : generated;
  }

  /**
   * The calls as OpenAI lists them: {@code {id, type: function, function: {name, arguments}}}, with
   * {@code index} in streamed deltas.
   */
  static ArrayNode toolCalls(ToolCalls.Parsed parsed, boolean indexed) {
    ArrayNode calls = JSON.createArrayNode();
    for (int i = 0; i < parsed.calls().size(); i++) {
      ToolCalls.Call call = parsed.calls().get(i);
      ObjectNode node = calls.addObject();
      if (indexed) {
        node.put("index", i);
      }
      node.put("id", "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24));
      node.put("type", "function");
      ObjectNode function = node.putObject("function");
      function.put("name", call.name());
      function.put("arguments", call.argumentsJson());
    }
    return calls;
  }
}
