package dev.tuneforge.llm.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One turn of a conversation in the OpenAI / Hugging Face shape.
 *
 * @param role system, user, assistant or tool
 * @param content the text; null only on an assistant turn that makes tool calls (OpenAI's shape)
 * @param toolCalls the assistant's {@code tool_calls} as given ({id, type, function: {name,
 *     arguments}}), JSON-like values, or null
 * @param toolCallId a tool turn's {@code tool_call_id}, or null
 * @param name a tool turn's {@code name}, or null
 */
public record ChatMessage(
    String role, String content, List<Object> toolCalls, String toolCallId, String name) {
  static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  public ChatMessage {
    if (!ROLES.contains(role)) {
      throw new IllegalArgumentException(
          "message role \"" + role + "\" is not one of " + ROLES.stream().sorted().toList());
    }
    if (toolCalls != null && !role.equals("assistant")) {
      throw new IllegalArgumentException(
          "tool_calls belong to assistant messages, not to role " + role);
    }
    if (content == null && (toolCalls == null || toolCalls.isEmpty())) {
      throw new IllegalArgumentException(
          "message content is missing for role "
              + role
              + " (only an assistant turn with tool_calls may have content null)");
    }
    toolCalls = toolCalls == null ? null : List.copyOf(toolCalls);
  }

  public ChatMessage(String role, String content) {
    this(role, content, null, null, null);
  }

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage("assistant", content);
  }

  /**
   * The dict a Jinja template sees: {@code role} and {@code content} (None for a tool-call turn
   * without text), plus {@code tool_calls}, {@code tool_call_id} and {@code name} only when given,
   * so {@code message.tool_calls is defined} reads as it does in transformers.
   */
  Map<String, Object> asTemplateValue() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("role", role);
    value.put("content", content);
    if (toolCalls != null) {
      value.put("tool_calls", toolCalls);
    }
    if (toolCallId != null) {
      value.put("tool_call_id", toolCallId);
    }
    if (name != null) {
      value.put("name", name);
    }
    return value;
  }
}
