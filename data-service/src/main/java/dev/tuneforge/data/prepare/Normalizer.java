package dev.tuneforge.data.prepare;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * Checks one record against its kind and rewrites it in the kind's canonical shape. A record that
 * breaks a rule throws {@link Invalid} naming the field and the rule, e.g. {@code "output" is
 * missing} or {@code messages[1].role "assistent" is not one of system|user|assistant|tool}.
 */
public final class Normalizer {
  static final List<String> ROLES = List.of("system", "user", "assistant", "tool");
  static final Map<String, String> SHAREGPT_ROLES =
      Map.of("human", "user", "gpt", "assistant", "system", "system", "tool", "tool");

  /** A record that breaks a rule. */
  public static final class Invalid extends Exception {
    Invalid(String message) {
      super(message, null, false, false);
    }
  }

  private final String labelField;

  /**
   * @param labelField a field copied into the canonical record (for stratified splits and label
   *     balance), or null
   */
  public Normalizer(String labelField) {
    this.labelField = labelField;
  }

  public JsonObject normalize(JsonObject record, DatasetKind kind) throws Invalid {
    JsonObject canonical =
        switch (kind) {
          case TEXT -> text(record);
          case PROMPT_COMPLETION -> promptCompletion(record);
          case ALPACA -> alpaca(record);
          case MESSAGES -> messages(record);
          case PREFERENCE -> preference(record);
          case PROMPT_ONLY -> promptOnly(record);
        };
    if (labelField != null) {
      JsonElement label = record.get(labelField);
      if (label == null || label.isJsonNull()) {
        throw new Invalid(quote(labelField) + " (the label to stratify by) is missing");
      }
      if (!label.isJsonPrimitive()) {
        throw new Invalid(
            quote(labelField)
                + " (the label) must be a string, number or boolean but was "
                + label);
      }
      canonical.add(labelField, label);
    }
    return canonical;
  }

  private static JsonObject text(JsonObject record) throws Invalid {
    JsonObject out = new JsonObject();
    out.addProperty("text", string(record, "text", ""));
    return out;
  }

  private static JsonObject promptCompletion(JsonObject record) throws Invalid {
    JsonObject out = new JsonObject();
    out.addProperty("prompt", string(record, "prompt", ""));
    out.addProperty("completion", string(record, "completion", ""));
    return out;
  }

  private static JsonObject alpaca(JsonObject record) throws Invalid {
    JsonObject out = new JsonObject();
    out.addProperty("instruction", string(record, "instruction", ""));
    JsonElement input = record.get("input");
    if (input != null && !input.isJsonNull() && !isString(input)) {
      throw new Invalid("\"input\" must be a string but was " + input);
    }
    out.addProperty("input", input == null || input.isJsonNull() ? "" : input.getAsString());
    out.addProperty("output", string(record, "output", ""));
    return out;
  }

  private static JsonObject messages(JsonObject record) throws Invalid {
    JsonArray messages =
        record.has("messages")
            ? messageList(record.get("messages"), "messages", true)
            : shareGpt(record.get("conversations"));
    boolean trained = false;
    for (JsonElement element : messages) {
      JsonObject message = element.getAsJsonObject();
      trained |=
          message.get("role").getAsString().equals("assistant")
              && (!message.has("weight") || message.get("weight").getAsInt() == 1);
    }
    if (!trained) {
      throw new Invalid("has no assistant message to train on (none, or every weight is 0)");
    }
    JsonObject out = new JsonObject();
    out.add("messages", messages);
    JsonElement tools = record.get("tools");
    if (tools != null && !tools.isJsonNull()) {
      if (!tools.isJsonArray()) {
        throw new Invalid("\"tools\" must be a list of tool schemas {type: function, function}");
      }
      out.add("tools", tools.deepCopy()); // passed to the chat template, as in transformers
    }
    return out;
  }

  private static JsonArray shareGpt(JsonElement value) throws Invalid {
    if (value == null || !value.isJsonArray() || value.getAsJsonArray().isEmpty()) {
      throw new Invalid("\"conversations\" must be a non-empty list of {from, value}");
    }
    JsonArray out = new JsonArray();
    int index = 0;
    for (JsonElement element : value.getAsJsonArray()) {
      String where = "conversations[" + index + "]";
      if (!element.isJsonObject()) {
        throw new Invalid(where + " must be an object {from, value}");
      }
      JsonObject turn = element.getAsJsonObject();
      String from = string(turn, "from", where + ".");
      String role = SHAREGPT_ROLES.get(from);
      if (role == null) {
        throw new Invalid(
            where
                + ".from \""
                + from
                + "\" is not one of "
                + String.join("|", List.of("system", "human", "gpt", "tool")));
      }
      JsonObject message = new JsonObject();
      message.addProperty("role", role);
      message.addProperty("content", string(turn, "value", where + "."));
      out.add(message);
      index++;
    }
    return out;
  }

  /** A list of {role, content[, weight]} messages, validated and rewritten. */
  private static JsonArray messageList(JsonElement value, String field, boolean allowWeight)
      throws Invalid {
    if (value == null || value.isJsonNull()) {
      throw new Invalid(quote(field) + " is missing");
    }
    if (!value.isJsonArray() || value.getAsJsonArray().isEmpty()) {
      throw new Invalid(quote(field) + " must be a non-empty list of {role, content}");
    }
    JsonArray out = new JsonArray();
    int index = 0;
    for (JsonElement element : value.getAsJsonArray()) {
      String where = field + "[" + index + "]";
      if (!element.isJsonObject()) {
        throw new Invalid(where + " must be an object {role, content}");
      }
      JsonObject message = element.getAsJsonObject();
      String role = string(message, "role", where + ".");
      if (!ROLES.contains(role)) {
        throw new Invalid(
            where + ".role \"" + role + "\" is not one of " + String.join("|", ROLES));
      }
      JsonObject normalized = new JsonObject();
      normalized.addProperty("role", role);
      JsonElement calls = message.get("tool_calls");
      boolean toolCalls = calls != null && !calls.isJsonNull();
      if (toolCalls && (!role.equals("assistant") || !calls.isJsonArray())) {
        throw new Invalid(where + ".tool_calls must be a list, on an assistant message");
      }
      JsonElement content = message.get("content");
      if (toolCalls && (content == null || content.isJsonNull())) {
        normalized.add("content", com.google.gson.JsonNull.INSTANCE); // OpenAI's tool-call turn
      } else {
        normalized.addProperty("content", string(message, "content", where + "."));
      }
      if (toolCalls) {
        normalized.add("tool_calls", calls.deepCopy());
      }
      for (String key : List.of("tool_call_id", "name")) {
        if (message.has(key) && message.get(key).isJsonPrimitive()) {
          normalized.addProperty(key, message.get(key).getAsString());
        }
      }
      if (message.has("weight")) {
        JsonElement weight = message.get("weight");
        if (!allowWeight) {
          throw new Invalid(where + ".weight is not allowed here");
        }
        if (!role.equals("assistant")) {
          throw new Invalid(where + ".weight is only allowed on assistant messages");
        }
        if (!weight.isJsonPrimitive()
            || !weight.getAsJsonPrimitive().isNumber()
            || (weight.getAsDouble() != 0 && weight.getAsDouble() != 1)) {
          throw new Invalid(where + ".weight must be 0 or 1 but was " + weight);
        }
        normalized.addProperty("weight", weight.getAsInt());
      }
      out.add(normalized);
      index++;
    }
    return out;
  }

  private static JsonObject preference(JsonObject record) throws Invalid {
    JsonObject out = new JsonObject();
    if (record.has("preferred_output") || record.has("input")) {
      // OpenAI's DPO shape: {"input": {"messages"}, "preferred_output", "non_preferred_output"}
      JsonElement input = record.get("input");
      if (input == null || !input.isJsonObject()) {
        throw new Invalid("\"input\" must be an object {messages: [...]}");
      }
      out.add(
          "prompt", messageList(input.getAsJsonObject().get("messages"), "input.messages", false));
      out.add("chosen", reply(record.get("preferred_output"), "preferred_output"));
      out.add("rejected", reply(record.get("non_preferred_output"), "non_preferred_output"));
    } else {
      JsonElement prompt = record.get("prompt");
      if (prompt == null || prompt.isJsonNull()) {
        throw new Invalid("\"prompt\" is missing");
      }
      if (prompt.isJsonArray()) {
        out.add("prompt", messageList(prompt, "prompt", false));
        out.add("chosen", reply(record.get("chosen"), "chosen"));
        out.add("rejected", reply(record.get("rejected"), "rejected"));
      } else {
        out.addProperty("prompt", string(record, "prompt", ""));
        for (String field : List.of("chosen", "rejected")) {
          JsonElement value = record.get(field);
          if (value != null && value.isJsonArray()) {
            throw new Invalid(quote(field) + " must be a string, as \"prompt\" is");
          }
          out.addProperty(field, string(record, field, ""));
        }
      }
    }
    if (out.get("chosen").equals(out.get("rejected"))) {
      throw new Invalid("chosen and rejected are identical: the pair teaches nothing");
    }
    if (record.has("margin")) {
      JsonElement margin = record.get("margin");
      if (!margin.isJsonPrimitive() || !margin.getAsJsonPrimitive().isNumber()) {
        throw new Invalid("\"margin\" must be a number but was " + margin);
      }
      out.add("margin", margin);
    }
    return out;
  }

  private static JsonArray reply(JsonElement value, String field) throws Invalid {
    if (value != null && isString(value)) {
      throw new Invalid(quote(field) + " must be a list of assistant messages, as the prompt is");
    }
    JsonArray messages = messageList(value, field, false);
    for (int i = 0; i < messages.size(); i++) {
      String role = messages.get(i).getAsJsonObject().get("role").getAsString();
      if (!role.equals("assistant")) {
        throw new Invalid(
            field + "[" + i + "].role must be \"assistant\" but was \"" + role + "\"");
      }
    }
    return messages;
  }

  private static JsonObject promptOnly(JsonObject record) throws Invalid {
    JsonObject out = new JsonObject();
    JsonElement prompt = record.get("prompt");
    if (prompt != null && prompt.isJsonArray()) {
      out.add("prompt", messageList(prompt, "prompt", false));
    } else {
      out.addProperty("prompt", string(record, "prompt", ""));
    }
    return out;
  }

  /** A required, non-blank string field; {@code path} prefixes the name in messages. */
  private static String string(JsonObject record, String field, String path) throws Invalid {
    String name = path.isEmpty() ? quote(field) : path + field;
    JsonElement value = record.get(field);
    if (value == null || value.isJsonNull()) {
      throw new Invalid(name + " is missing");
    }
    if (!isString(value)) {
      throw new Invalid(name + " must be a string but was " + value);
    }
    if (value.getAsString().isBlank()) {
      throw new Invalid(name + " is empty");
    }
    return value.getAsString();
  }

  private static boolean isString(JsonElement value) {
    return value.isJsonPrimitive() && value.getAsJsonPrimitive().isString();
  }

  private static String quote(String field) {
    return "\"" + field + "\"";
  }
}
