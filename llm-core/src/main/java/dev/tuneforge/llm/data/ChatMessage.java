package dev.tuneforge.llm.data;

import java.util.Map;
import java.util.Set;

/**
 * One turn of a conversation in the OpenAI / Hugging Face shape.
 *
 * @param role system, user, assistant or tool
 */
public record ChatMessage(String role, String content) {
  static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  public ChatMessage {
    if (!ROLES.contains(role)) {
      throw new IllegalArgumentException(
          "message role \"" + role + "\" is not one of " + ROLES.stream().sorted().toList());
    }
    if (content == null) {
      throw new IllegalArgumentException("message content is missing for role " + role);
    }
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

  /** The map a Jinja template sees: {@code message['role']}, {@code message['content']}. */
  Map<String, Object> asTemplateValue() {
    return Map.of("role", role, "content", content);
  }
}
