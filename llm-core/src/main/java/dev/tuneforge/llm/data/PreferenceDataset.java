package dev.tuneforge.llm.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.preference.PreferencePair;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Preference JSONL as TRL reads it, into token pairs: {@code {"prompt","chosen","rejected"}} with
 * strings (plain: the prompt tokenized as the tokenizer's config asks, responses followed by EOS)
 * or with message lists (conversational: rendered through the chat template, the prompt with the
 * generation prompt, each response being what the full conversation adds to it). An optional
 * numeric {@code margin} feeds the reward-model loss. Prompts longer than max_prompt_length keep
 * their end; responses are cut so prompt + response fit max_length. A bad line is an error naming
 * the line, the field and the rule.
 */
public final class PreferenceDataset {
  /**
   * @param template renders conversational records; null accepts plain records only
   */
  public record Options(int maxPromptLength, int maxLength, ChatTemplate template) {
    public Options {
      if (maxPromptLength < 1) {
        throw new IllegalArgumentException(
            "max_prompt_length must be >= 1 but was " + maxPromptLength);
      }
      if (maxLength <= maxPromptLength) {
        throw new IllegalArgumentException(
            "max_length ("
                + maxLength
                + ") must be greater than max_prompt_length ("
                + maxPromptLength
                + ")");
      }
    }
  }

  private PreferenceDataset() {}

  /** Preference pairs of every non-blank line. */
  public static List<PreferencePair> parse(
      List<String> lines, Tokenizer tokenizer, Options options) {
    List<PreferencePair> pairs = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (!line.isEmpty()) {
        pairs.add(pair(SftDataset.object(line, i + 1), i + 1, tokenizer, options));
      }
    }
    if (pairs.isEmpty()) {
      throw new IllegalArgumentException("dataset is empty: no JSON lines");
    }
    return pairs;
  }

  /** Prompts of prompt-only JSONL ({@code {"prompt": string or messages}}), for PPO rollouts. */
  public static List<int[]> parsePrompts(List<String> lines, Tokenizer tokenizer, Options options) {
    List<int[]> prompts = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (!line.isEmpty()) {
        JsonObject record = SftDataset.object(line, i + 1);
        prompts.add(keepEnd(prompt(record, i + 1, tokenizer, options), options.maxPromptLength()));
      }
    }
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("dataset is empty: no JSON lines");
    }
    return prompts;
  }

  private static PreferencePair pair(
      JsonObject record, int line, Tokenizer tokenizer, Options options) {
    for (String field : List.of("prompt", "chosen", "rejected")) {
      if (!record.has(field)) {
        throw new IllegalArgumentException(
            "dataset line "
                + line
                + ": field \""
                + field
                + "\" is missing; a preference record needs \"prompt\", \"chosen\" and"
                + " \"rejected\"");
      }
    }
    boolean conversational = record.get("prompt").isJsonArray();
    for (String field : List.of("chosen", "rejected")) {
      if (record.get(field).isJsonArray() != conversational) {
        throw new IllegalArgumentException(
            "dataset line "
                + line
                + ": field \""
                + field
                + "\" must be "
                + (conversational
                    ? "a list of messages, as \"prompt\" is"
                    : "a string, as \"prompt\" is"));
      }
    }
    int[] prompt = keepEnd(prompt(record, line, tokenizer, options), options.maxPromptLength());
    int room = options.maxLength() - prompt.length;
    int[] chosen;
    int[] rejected;
    if (conversational) {
      List<ChatMessage> messages = SftDataset.messages(record.get("prompt"), "prompt", line);
      chosen = reply(messages, record.get("chosen"), "chosen", line, tokenizer, options);
      rejected = reply(messages, record.get("rejected"), "rejected", line, tokenizer, options);
    } else {
      chosen = plainResponse(SftDataset.text(record, "chosen", line), tokenizer);
      rejected = plainResponse(SftDataset.text(record, "rejected", line), tokenizer);
    }
    if (chosen.length == 0 || rejected.length == 0) {
      throw new IllegalArgumentException(
          "dataset line " + line + ": \"chosen\" and \"rejected\" must not be empty");
    }
    double margin = 0;
    if (record.has("margin")) {
      JsonElement value = record.get("margin");
      if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isNumber()) {
        throw new IllegalArgumentException(
            "dataset line " + line + ": field \"margin\" must be a number but was " + value);
      }
      margin = value.getAsDouble();
    }
    return new PreferencePair(
        prompt,
        Arrays.copyOf(chosen, Math.min(chosen.length, room)),
        Arrays.copyOf(rejected, Math.min(rejected.length, room)),
        margin);
  }

  private static int[] prompt(JsonObject record, int line, Tokenizer tokenizer, Options options) {
    JsonElement value = record.get("prompt");
    if (value == null) {
      throw new IllegalArgumentException("dataset line " + line + ": field \"prompt\" is missing");
    }
    if (value.isJsonArray()) {
      ChatTemplate template = template(options, line);
      List<ChatMessage> messages = SftDataset.messages(value, "prompt", line);
      return tokenizer.encodePlain(template.render(messages, true, special(tokenizer)));
    }
    return tokenizer.encode(SftDataset.text(record, "prompt", line));
  }

  private static int[] plainResponse(String text, Tokenizer tokenizer) {
    int[] ids = tokenizer.encodePlain(text);
    int eos = tokenizer.special().eosId();
    if (eos < 0) {
      return ids;
    }
    int[] withEos = Arrays.copyOf(ids, ids.length + 1);
    withEos[ids.length] = eos;
    return withEos;
  }

  /** The tokens the assistant reply adds after the rendered prompt. */
  private static int[] reply(
      List<ChatMessage> prompt,
      JsonElement value,
      String field,
      int line,
      Tokenizer tokenizer,
      Options options) {
    ChatTemplate template = template(options, line);
    List<ChatMessage> replyMessages = SftDataset.messages(value, field, line);
    for (ChatMessage message : replyMessages) {
      if (!message.role().equals("assistant")) {
        throw new IllegalArgumentException(
            "dataset line "
                + line
                + ": field \""
                + field
                + "\" must hold assistant messages but has role \""
                + message.role()
                + "\"");
      }
    }
    String promptText = template.render(prompt, true, special(tokenizer));
    List<ChatMessage> conversation = new ArrayList<>(prompt);
    conversation.addAll(replyMessages);
    String fullText = template.render(conversation, false, special(tokenizer));
    if (!fullText.startsWith(promptText)) {
      throw new IllegalArgumentException(
          "dataset line "
              + line
              + ": chat template "
              + template.name()
              + " does not render the prompt as a prefix of the conversation, so \""
              + field
              + "\" cannot be separated from it");
    }
    return tokenizer.encodePlain(fullText.substring(promptText.length()));
  }

  private static ChatTemplate template(Options options, int line) {
    if (options.template() == null) {
      throw new IllegalArgumentException(
          "dataset line "
              + line
              + ": conversational records need a chat template (the model's or a built-in one)");
    }
    return options.template();
  }

  private static Map<String, String> special(Tokenizer tokenizer) {
    return Map.of("bos_token", tokenizer.special().bos(), "eos_token", tokenizer.special().eos());
  }

  private static int[] keepEnd(int[] ids, int max) {
    return ids.length <= max ? ids : Arrays.copyOfRange(ids, ids.length - max, ids.length);
  }
}
