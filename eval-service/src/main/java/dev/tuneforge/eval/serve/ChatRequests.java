package dev.tuneforge.eval.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneforge.llm.data.ChatMessage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The messages and tools of a {@code /v1/chat/completions} request, read into a prompt. */
final class ChatRequests {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ChatRequests() {}

  /**
   * The conversation rendered with the model's chat template, ready for the assistant's turn, in
   * OpenAI's shapes: system/developer, user, assistant (content null when it makes {@code
   * tool_calls}) and tool turns ({@code tool_call_id}), plus the request's {@code tools}. A tool
   * call's {@code arguments} JSON string is passed to the template as the object it encodes, as
   * Hugging Face templates expect (vLLM does the same). Message text is data for the template.
   */
  static String prompt(JsonNode body, ServedModels.Served served) {
    JsonNode messages = body.get("messages");
    if (messages == null || !messages.isArray() || messages.isEmpty()) {
      throw CompletionsResource.error(
          400, "messages is required: a non-empty list of {role, content}", "messages");
    }
    if (served.template() == null) {
      throw CompletionsResource.error(
          400, "model " + served.name() + " has no chat template; use /v1/completions", "model");
    }
    List<ChatMessage> conversation = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      conversation.add(message(messages.get(i), "messages[" + i + "]"));
    }
    List<?> tools = null;
    JsonNode toolsNode = body.get("tools");
    if (toolsNode != null && !toolsNode.isNull()) {
      if (!toolsNode.isArray()) {
        throw CompletionsResource.error(
            400, "tools must be a list of {type: function, function: {...}}", "tools");
      }
      tools = JSON.convertValue(toolsNode, List.class);
    }
    try {
      return served
          .template()
          .render(
              conversation,
              tools,
              true,
              Map.of(
                  "bos_token", served.tokenizer().special().bos(),
                  "eos_token", served.tokenizer().special().eos()));
    } catch (IllegalArgumentException e) {
      throw CompletionsResource.error(400, e.getMessage(), "messages");
    }
  }

  private static ChatMessage message(JsonNode m, String where) {
    String role = m.path("role").asText("");
    if (!List.of("system", "user", "assistant", "developer", "tool").contains(role)) {
      throw CompletionsResource.error(
          400,
          where
              + ".role must be system, developer, user, assistant or tool but was \""
              + role
              + "\"",
          where + ".role");
    }
    List<Object> toolCalls = null;
    JsonNode calls = m.get("tool_calls");
    if (calls != null && !calls.isNull()) {
      if (!role.equals("assistant") || !calls.isArray()) {
        throw CompletionsResource.error(
            400,
            where + ".tool_calls must be a list on an assistant message",
            where + ".tool_calls");
      }
      toolCalls = new ArrayList<>();
      for (JsonNode call : calls) {
        @SuppressWarnings("unchecked")
        Map<String, Object> value = JSON.convertValue(call, Map.class);
        Object function = value.get("function");
        if (function instanceof Map<?, ?> f && f.get("arguments") instanceof String arguments) {
          try {
            JsonNode parsed = JSON.readTree(arguments);
            if (parsed != null && parsed.isObject()) {
              @SuppressWarnings("unchecked")
              Map<String, Object> copy = new java.util.LinkedHashMap<>((Map<String, Object>) f);
              copy.put("arguments", JSON.convertValue(parsed, Map.class));
              value.put("function", copy);
            }
          } catch (IOException notJson) {
            // kept as the string it is
          }
        }
        toolCalls.add(value);
      }
    }
    JsonNode content = m.get("content");
    String text;
    if (content != null && content.isTextual()) {
      text = content.asText();
    } else if (content != null && content.isArray()) {
      StringBuilder parts = new StringBuilder();
      content.forEach(
          p ->
              parts.append(
                  p.path("type").asText("").equals("text") ? p.path("text").asText("") : ""));
      text = parts.toString();
    } else if ((content == null || content.isNull()) && toolCalls != null) {
      text = null;
    } else {
      throw CompletionsResource.error(
          400,
          where + ".content must be a string or a list of text parts (null only with tool_calls)",
          where + ".content");
    }
    JsonNode id = m.get("tool_call_id");
    JsonNode name = m.get("name");
    return new ChatMessage(
        role.equals("developer") ? "system" : role,
        text,
        toolCalls,
        id != null && id.isTextual() ? id.asText() : null,
        name != null && name.isTextual() ? name.asText() : null);
  }
}
