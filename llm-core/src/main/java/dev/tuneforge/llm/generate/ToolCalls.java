package dev.tuneforge.llm.generate;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tool calls in generated text, in the formats the published chat templates teach their models, for
 * an OpenAI-style response ({@code message.tool_calls}):
 *
 * <ul>
 *   <li>Hermes-style blocks, {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}, one
 *       or more (Qwen 2.5, Qwen 3 and others); text around them stays content;
 *   <li>Llama 3.1 / 3.2's bare JSON object {@code {"name": ..., "parameters": {...}}}, the whole
 *       output, optionally after {@code <|python_tag|>};
 *   <li>Mistral's {@code [TOOL_CALLS]} followed by a JSON list of {@code {name, arguments}}.
 * </ul>
 *
 * A call counts only when it names one of the request's tools and its arguments are a JSON object
 * (or a string holding one); anything else is left as content, never guessed at.
 */
public final class ToolCalls {
  private static final Pattern HERMES =
      Pattern.compile("<tool_call>\\s*(.*?)\\s*</tool_call>", Pattern.DOTALL);
  private static final String MISTRAL = "[TOOL_CALLS]";
  private static final String PYTHON_TAG = "<|python_tag|>";

  private ToolCalls() {}

  /** One call: the tool's name and its arguments as a JSON object's text. */
  public record Call(String name, String argumentsJson) {}

  /** The content left besides the calls (null when none is left) and the calls, in order. */
  public record Parsed(String content, List<Call> calls) {}

  /** The calls in {@code text} to tools named in {@code tools}, or empty when it makes none. */
  public static Optional<Parsed> parse(String text, Set<String> tools) {
    if (tools.isEmpty()) {
      return Optional.empty();
    }
    Matcher blocks = HERMES.matcher(text);
    List<Call> calls = new ArrayList<>();
    StringBuilder rest = new StringBuilder();
    int end = 0;
    while (blocks.find()) {
      Optional<Call> call = call(blocks.group(1), "arguments", tools);
      if (call.isEmpty()) {
        return Optional.empty(); // a block that is not a call to a known tool: all of it is text
      }
      calls.add(call.get());
      rest.append(text, end, blocks.start());
      end = blocks.end();
    }
    if (!calls.isEmpty()) {
      rest.append(text, end, text.length());
      return Optional.of(new Parsed(content(rest.toString()), calls));
    }
    String trimmed = text.strip();
    if (trimmed.startsWith(MISTRAL)) {
      return list(trimmed.substring(MISTRAL.length()), tools);
    }
    if (trimmed.startsWith(PYTHON_TAG)) {
      trimmed = trimmed.substring(PYTHON_TAG.length()).strip();
    }
    if (trimmed.startsWith("{")) {
      return call(trimmed, "parameters", tools).map(c -> new Parsed(null, List.of(c)));
    }
    return Optional.empty();
  }

  private static Optional<Parsed> list(String json, Set<String> tools) {
    JsonElement parsed = json(json.strip());
    if (parsed == null || !parsed.isJsonArray() || parsed.getAsJsonArray().isEmpty()) {
      return Optional.empty();
    }
    List<Call> calls = new ArrayList<>();
    for (JsonElement element : parsed.getAsJsonArray()) {
      Optional<Call> call =
          element.isJsonObject() ? call(element, "arguments", tools) : Optional.empty();
      if (call.isEmpty()) {
        return Optional.empty();
      }
      calls.add(call.get());
    }
    return Optional.of(new Parsed(null, calls));
  }

  private static Optional<Call> call(String json, String argumentsKey, Set<String> tools) {
    JsonElement parsed = json(json);
    return parsed == null ? Optional.empty() : call(parsed, argumentsKey, tools);
  }

  /** {name, arguments} (or Llama's {name, parameters}) naming a known tool. */
  private static Optional<Call> call(JsonElement element, String argumentsKey, Set<String> tools) {
    if (!element.isJsonObject()) {
      return Optional.empty();
    }
    JsonObject object = element.getAsJsonObject();
    JsonElement name = object.get("name");
    if (name == null || !name.isJsonPrimitive() || !tools.contains(name.getAsString())) {
      return Optional.empty();
    }
    JsonElement arguments =
        object.has(argumentsKey) ? object.get(argumentsKey) : object.get("arguments");
    if (arguments != null
        && arguments.isJsonPrimitive()
        && arguments.getAsJsonPrimitive().isString()) {
      arguments = json(arguments.getAsString());
    }
    if (arguments == null || !arguments.isJsonObject()) {
      return Optional.empty();
    }
    return Optional.of(new Call(name.getAsString(), arguments.toString()));
  }

  private static JsonElement json(String text) {
    try {
      com.google.gson.stream.JsonReader reader =
          new com.google.gson.stream.JsonReader(new java.io.StringReader(text));
      reader.setStrictness(com.google.gson.Strictness.STRICT);
      JsonElement element = JsonParser.parseReader(reader);
      return reader.peek() == com.google.gson.stream.JsonToken.END_DOCUMENT ? element : null;
    } catch (JsonParseException | java.io.IOException | IllegalStateException e) {
      return null;
    }
  }

  private static String content(String rest) {
    String stripped = rest.strip();
    return stripped.isEmpty() ? null : stripped;
  }
}
