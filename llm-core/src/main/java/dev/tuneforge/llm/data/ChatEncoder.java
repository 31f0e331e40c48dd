package dev.tuneforge.llm.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;

/**
 * Tokenizes a conversation through its chat template and marks which tokens are assistant output,
 * for assistant-only loss, by transformers' rule ({@code return_assistant_tokens_mask}): for each
 * assistant span of the rendered text, the tokens from the one holding its first character through
 * the one holding its last ({@code char_to_token}). Spans and token offsets are both counted in
 * code points, as Python counts string indices, so characters above U+FFFF (emoji) shift nothing.
 * Special tokens in the text (such as {@code <|im_end|>}) are matched as the tokenizer's added
 * tokens, as {@code apply_chat_template(tokenize=True)} does. A recognised published template
 * without generation blocks is swapped for its training variant first, as TRL does ({@link
 * ChatTemplate#forAssistantMasks}).
 */
public final class ChatEncoder {
  private ChatEncoder() {}

  /** Token ids of a conversation and, for each, whether it is assistant output. */
  public record EncodedChat(int[] ids, boolean[] assistant) {}

  public static EncodedChat encode(
      Tokenizer tokenizer, ChatTemplate template, List<ChatMessage> messages) {
    return encode(tokenizer, template, messages, null, true);
  }

  /**
   * Encodes {@code messages} with the tool schemas {@code tools} (or null); with {@code
   * assistantMask} false every token is marked and the template need not render turn by turn, as
   * TRL trains chat data without {@code assistant_only_loss}.
   */
  public static EncodedChat encode(
      Tokenizer tokenizer,
      ChatTemplate template,
      List<ChatMessage> messages,
      List<?> tools,
      boolean assistantMask) {
    Map<String, String> special =
        Map.of("bos_token", tokenizer.special().bos(), "eos_token", tokenizer.special().eos());
    if (!assistantMask) {
      int[] ids = tokenizer.encodePlain(template.render(messages, tools, false, special));
      boolean[] all = new boolean[ids.length];
      java.util.Arrays.fill(all, true);
      return new EncodedChat(ids, all);
    }
    ChatTemplate.Rendered rendered =
        template.forAssistantMasks().renderWithAssistantSpans(messages, tools, special);
    Encoding encoding = tokenizer.encodeWithOffsets(rendered.text());
    long[] ids = encoding.getIds();
    CharSpan[] offsets = encoding.getCharTokenSpans();
    int[] tokens = new int[ids.length];
    boolean[] assistant = new boolean[ids.length];
    for (int i = 0; i < ids.length; i++) {
      tokens[i] = Math.toIntExact(ids[i]);
    }
    String text = rendered.text();
    for (int[] span : rendered.assistantSpans()) {
      if (span[1] <= span[0]) {
        continue;
      }
      int first = charToToken(offsets, text.codePointCount(0, span[0]));
      int last = charToToken(offsets, text.codePointCount(0, span[1]) - 1);
      if (first < 0) {
        continue; // the span's first character is in no token (trimmed away)
      }
      for (int t = first; t <= (last < 0 ? ids.length - 1 : last); t++) {
        assistant[t] = true;
      }
    }
    return new EncodedChat(tokens, assistant);
  }

  /**
   * The token whose characters include code point {@code c}, or -1 (transformers' char_to_token).
   */
  private static int charToToken(CharSpan[] offsets, int c) {
    for (int i = 0; i < offsets.length; i++) {
      CharSpan span = offsets[i];
      if (span != null && span.getStart() <= c && c < span.getEnd()) {
        return i;
      }
    }
    return -1;
  }
}
