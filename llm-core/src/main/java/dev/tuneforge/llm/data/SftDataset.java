package dev.tuneforge.llm.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns SFT JSONL into tokenized examples, for the four shapes TRL accepts: {@code {"text"}},
 * {@code {"prompt","completion"}}, Alpaca {@code {"instruction","input","output"}} and chat {@code
 * {"messages":[{role, content}]}}. Completion-only loss trains the completion (or Alpaca output);
 * assistant-only loss trains the assistant turns; EOS is appended and trained after text,
 * completions and outputs (a chat template ends turns with its own token, inside the assistant
 * span). Examples are truncated to max_seq_length. A bad line is an error naming line and field.
 */
public final class SftDataset {
  /** The shape of one JSONL record. */
  public enum Format {
    TEXT,
    PROMPT_COMPLETION,
    ALPACA,
    MESSAGES
  }

  /** How to tokenize and which tokens to train. */
  public record Options(
      int maxSeqLength,
      boolean completionOnlyLoss,
      boolean assistantOnlyLoss,
      ChatTemplate template) {
    public Options {
      if (maxSeqLength < 2) {
        throw new IllegalArgumentException("max_seq_length must be >= 2 but was " + maxSeqLength);
      }
    }
  }

  /** Examples and what was dropped on the way. */
  public record Result(
      Format format,
      List<TokenizedExample> examples,
      int truncated,
      int droppedWithoutTrainedTokens) {}

  static final String ALPACA_PREAMBLE =
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n";

  private SftDataset() {}

  public static Result read(Path jsonl, Tokenizer tokenizer, Options options) {
    try {
      return parse(Files.readAllLines(jsonl), tokenizer, options);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + jsonl, e);
    }
  }

  /** Parses non-blank lines; the format is detected from the first record and must not change. */
  public static Result parse(List<String> lines, Tokenizer tokenizer, Options options) {
    Format format = null;
    List<TokenizedExample> examples = new ArrayList<>();
    int truncated = 0;
    int dropped = 0;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty()) {
        continue;
      }
      int number = i + 1;
      JsonObject record = object(line, number);
      Format detected = detect(record, number);
      if (format == null) {
        format = detected;
      } else if (detected != format) {
        throw new IllegalArgumentException(
            "dataset line "
                + number
                + ": a "
                + detected
                + " record in a "
                + format
                + " dataset; use one shape per file");
      }
      TokenizedExample full = tokenize(record, format, number, tokenizer, options);
      TokenizedExample example = truncate(full, options.maxSeqLength());
      truncated += example.ids().length < full.ids().length ? 1 : 0;
      if (example.trainedTokens() == 0 || (example.trainedTokens() == 1 && example.trained()[0])) {
        dropped++;
        continue;
      }
      examples.add(example);
    }
    if (format == null) {
      throw new IllegalArgumentException("dataset is empty: no JSON lines");
    }
    return new Result(format, examples, truncated, dropped);
  }

  private static TokenizedExample tokenize(
      JsonObject record, Format format, int line, Tokenizer tokenizer, Options options) {
    int eos = tokenizer.special().eosId();
    return switch (format) {
      case TEXT -> {
        int[] ids = append(tokenizer.encode(text(record, "text", line)), eos);
        boolean[] trained = new boolean[ids.length];
        Arrays.fill(trained, true);
        yield new TokenizedExample(ids, trained);
      }
      case PROMPT_COMPLETION ->
          completion(
              tokenizer.encode(text(record, "prompt", line)),
              append(tokenizer.encodePlain(text(record, "completion", line)), eos),
              options.completionOnlyLoss());
      case ALPACA -> {
        String prompt = alpacaPrompt(record, line);
        yield completion(
            tokenizer.encode(prompt),
            append(tokenizer.encodePlain(text(record, "output", line)), eos),
            options.completionOnlyLoss());
      }
      case MESSAGES -> {
        if (options.template() == null) {
          throw new IllegalArgumentException(
              "dataset line "
                  + line
                  + ": chat messages need a chat template; the model has none, pick one (chatml, llama2, llama3, alpaca)");
        }
        ChatEncoder.EncodedChat chat;
        try {
          chat =
              ChatEncoder.encode(
                  tokenizer,
                  options.template(),
                  messages(record, line),
                  tools(record, line),
                  options.assistantOnlyLoss());
        } catch (IllegalArgumentException e) {
          throw e.getMessage().startsWith("dataset line")
              ? e
              : new IllegalArgumentException("dataset line " + line + ": " + e.getMessage(), e);
        }
        yield new TokenizedExample(chat.ids(), chat.assistant());
      }
    };
  }

  /**
   * The prompt an instruction record ({@code instruction}, optional {@code input}) trains with, up
   * to and including "### Response:\n"; evaluation renders the same text.
   */
  public static String alpacaPrompt(JsonObject record, int line) {
    String input = record.has("input") ? text(record, "input", line) : "";
    return ALPACA_PREAMBLE
        + "### Instruction:\n"
        + text(record, "instruction", line)
        + "\n\n"
        + (input.isEmpty() ? "" : "### Input:\n" + input + "\n\n")
        + "### Response:\n";
  }

  private static TokenizedExample completion(
      int[] prompt, int[] completion, boolean completionOnly) {
    TokenizedExample example = TokenizedExample.completion(prompt, completion);
    return completionOnly
        ? example
        : new TokenizedExample(example.ids(), all(example.ids().length));
  }

  private static TokenizedExample truncate(TokenizedExample example, int maxSeqLength) {
    if (example.ids().length <= maxSeqLength) {
      return example;
    }
    return new TokenizedExample(
        Arrays.copyOf(example.ids(), maxSeqLength), Arrays.copyOf(example.trained(), maxSeqLength));
  }

  private static Format detect(JsonObject record, int line) {
    if (record.has("messages")) {
      return Format.MESSAGES;
    }
    if (record.has("prompt") || record.has("completion")) {
      return Format.PROMPT_COMPLETION;
    }
    if (record.has("instruction") || record.has("output")) {
      return Format.ALPACA;
    }
    if (record.has("text")) {
      return Format.TEXT;
    }
    throw new IllegalArgumentException(
        "dataset line "
            + line
            + ": no known fields "
            + record.keySet()
            + "; expected \"text\", \"prompt\"+\"completion\", \"instruction\"+\"output\" or \"messages\"");
  }

  private static List<ChatMessage> messages(JsonObject record, int line) {
    return messages(record.get("messages"), "messages", line);
  }

  /**
   * A non-empty list of {role, content} objects under {@code field}, with OpenAI's tool fields;
   * errors name {@code line}.
   */
  public static List<ChatMessage> messages(JsonElement value, String field, int line) {
    if (value == null || !value.isJsonArray() || value.getAsJsonArray().isEmpty()) {
      throw new IllegalArgumentException(
          "dataset line "
              + line
              + ": field \""
              + field
              + "\" must be a non-empty list of {role, content}");
    }
    List<ChatMessage> messages = new ArrayList<>();
    int index = 0;
    for (JsonElement element : value.getAsJsonArray()) {
      if (!element.isJsonObject()) {
        throw new IllegalArgumentException(
            "dataset line " + line + ": " + field + "[" + index + "] is not an object");
      }
      JsonObject message = element.getAsJsonObject();
      String where = field + "[" + index + "]";
      try {
        messages.add(message(message, line, where));
      } catch (IllegalArgumentException e) {
        throw e.getMessage().startsWith("dataset line")
            ? e
            : new IllegalArgumentException(
                "dataset line " + line + ": " + where + ": " + e.getMessage(), e);
      }
      index++;
    }
    return messages;
  }

  /**
   * One message: role and content, plus OpenAI's tool fields ({@code tool_calls} on an assistant
   * turn, whose content may then be null; {@code tool_call_id} and {@code name} on a tool turn).
   */
  private static ChatMessage message(JsonObject message, int line, String where) {
    String role = text(message, "role", line, where);
    JsonElement calls = message.get("tool_calls");
    List<Object> toolCalls = null;
    if (calls != null && !calls.isJsonNull()) {
      if (!calls.isJsonArray()) {
        throw new IllegalArgumentException(
            "dataset line " + line + ": " + where + ".tool_calls must be a list of tool calls");
      }
      @SuppressWarnings("unchecked")
      List<Object> parsed = (List<Object>) JsonValues.toJava(calls);
      toolCalls = parsed;
    }
    JsonElement content = message.get("content");
    String text =
        content == null || content.isJsonNull() ? null : text(message, "content", line, where);
    if (text == null && toolCalls == null) {
      text(message, "content", line, where); // names the missing field
    }
    return new ChatMessage(
        role,
        text,
        toolCalls,
        optionalText(message, "tool_call_id"),
        optionalText(message, "name"));
  }

  private static String optionalText(JsonObject object, String field) {
    JsonElement value = object.get(field);
    return value == null || value.isJsonNull() || !value.isJsonPrimitive()
        ? null
        : value.getAsString();
  }

  /** The record's {@code tools} (OpenAI function schemas), or null. */
  public static List<?> tools(JsonObject record, int line) {
    JsonElement tools = record.get("tools");
    if (tools == null || tools.isJsonNull()) {
      return null;
    }
    if (!tools.isJsonArray()) {
      throw new IllegalArgumentException(
          "dataset line " + line + ": field \"tools\" must be a list of tool schemas");
    }
    return (List<?>) JsonValues.toJava(tools);
  }

  public static JsonObject object(String line, int number) {
    try {
      JsonElement element = JsonParser.parseString(line);
      if (!element.isJsonObject()) {
        throw new IllegalArgumentException(
            "dataset line " + number + ": expected a JSON object but found " + element);
      }
      return element.getAsJsonObject();
    } catch (com.google.gson.JsonParseException e) {
      throw new IllegalArgumentException(
          "dataset line " + number + ": not valid JSON (" + e.getMessage() + ")", e);
    }
  }

  static String text(JsonObject record, String field, int line) {
    return text(record, field, line, "");
  }

  private static String text(JsonObject record, String field, int line, String where) {
    String path = where.isEmpty() ? "field \"" + field + "\"" : where + "." + field;
    JsonElement value = record.get(field);
    if (value == null || value.isJsonNull()) {
      throw new IllegalArgumentException("dataset line " + line + ": " + path + " is missing");
    }
    if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException(
          "dataset line " + line + ": " + path + " must be a string but was " + value);
    }
    return value.getAsString();
  }

  private static int[] append(int[] ids, int token) {
    if (token < 0) {
      return ids;
    }
    int[] extended = Arrays.copyOf(ids, ids.length + 1);
    extended[ids.length] = token;
    return extended;
  }

  private static boolean[] all(int length) {
    boolean[] trained = new boolean[length];
    Arrays.fill(trained, true);
    return trained;
  }
}
