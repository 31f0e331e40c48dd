package dev.tuneforge.llm.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;

/**
 * Tokenizes a conversation through its chat template and marks which tokens are assistant output,
 * for assistant-only loss: a token is the assistant's when its characters fall inside an assistant
 * span of the rendered text. Special tokens in the text (such as {@code <|im_end|>}) are matched as
 * the tokenizer's added tokens, as {@code apply_chat_template(tokenize=True)} does.
 */
public final class ChatEncoder {
  private ChatEncoder() {}

  /** Token ids of a conversation and, for each, whether it is assistant output. */
  public record EncodedChat(int[] ids, boolean[] assistant) {}

  public static EncodedChat encode(
      Tokenizer tokenizer, ChatTemplate template, List<ChatMessage> messages) {
    Map<String, String> special =
        Map.of("bos_token", tokenizer.special().bos(), "eos_token", tokenizer.special().eos());
    ChatTemplate.Rendered rendered = template.renderWithAssistantSpans(messages, special);
    Encoding encoding = tokenizer.encodeWithOffsets(rendered.text());
    long[] ids = encoding.getIds();
    CharSpan[] offsets = encoding.getCharTokenSpans();
    int[] tokens = new int[ids.length];
    boolean[] assistant = new boolean[ids.length];
    for (int i = 0; i < ids.length; i++) {
      tokens[i] = Math.toIntExact(ids[i]);
      CharSpan span = offsets[i];
      assistant[i] =
          span != null && inside(span.getStart(), span.getEnd(), rendered.assistantSpans());
    }
    return new EncodedChat(tokens, assistant);
  }

  private static boolean inside(int start, int end, List<int[]> spans) {
    for (int[] span : spans) {
      if (start >= span[0] && end <= span[1] && end > start) {
        return true;
      }
    }
    return false;
  }
}
