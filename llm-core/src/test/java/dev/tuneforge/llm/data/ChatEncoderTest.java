package dev.tuneforge.llm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatEncoderTest {
  @TempDir Path dir;

  @Test
  void assistantTokensAreExactlyTheAssistantTurnsWithTheirEndToken() {
    TinyLlama.write(dir, 5, TinyLlama.Size.DEFAULT);
    try (Tokenizer tokenizer = Tokenizer.load(dir)) {
      List<ChatMessage> chat =
          List.of(
              ChatMessage.user("Hi there"),
              ChatMessage.assistant("Hello, the end."),
              ChatMessage.user("Bye"),
              ChatMessage.assistant("Ciao"));
      ChatEncoder.EncodedChat encoded =
          ChatEncoder.encode(tokenizer, ChatTemplate.builtIn("chatml"), chat);

      assertEquals(
          "Hello, the end.<|im_end|>\nCiao<|im_end|>\n", assistantText(tokenizer, encoded));
      String all = tokenizer.decode(encoded.ids(), false);
      assertEquals(
          "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello, the end.<|im_end|>\n"
              + "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\nCiao<|im_end|>\n",
          all);
    }
  }

  /**
   * Characters above U+FFFF take two UTF-16 units but one Python index: with eight emoji in the
   * first user turn the mask must still cover exactly the assistant turns (it trained ".<|im_end|>"
   * shifted by eight before), and a one-emoji answer is trained, not dropped.
   */
  @Test
  void emojiBeforeAnAnswerDoNotShiftTheMask() {
    TinyLlama.write(dir, 5, TinyLlama.Size.DEFAULT);
    try (Tokenizer tokenizer = Tokenizer.load(dir)) {
      List<ChatMessage> chat =
          List.of(
              ChatMessage.user("😀😀😀😀 hi 😀😀😀😀"),
              ChatMessage.assistant("Fine, thanks."),
              ChatMessage.user("😀😀"),
              ChatMessage.assistant("👍"));
      ChatEncoder.EncodedChat encoded =
          ChatEncoder.encode(tokenizer, ChatTemplate.builtIn("chatml"), chat);
      assertEquals("Fine, thanks.<|im_end|>\n👍<|im_end|>\n", assistantText(tokenizer, encoded));
    }
  }

  private static String assistantText(Tokenizer tokenizer, ChatEncoder.EncodedChat encoded) {
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < encoded.ids().length; i++) {
      if (encoded.assistant()[i]) {
        ids.add(encoded.ids()[i]);
      }
    }
    return tokenizer.decode(ids.stream().mapToInt(Integer::intValue).toArray(), false);
  }

  /**
   * Chat data trains with assistant-only loss on the published Qwen 2.5 and Llama 3.2 templates
   * (npm's tokenizer_config.json): the masks cover exactly each answer and its end-of-turn marker
   * (Jinjava rendered both templates wrongly and refused them); Qwen 2.5's through the training
   * variant TRL swaps in, so its masks start at the newline after "assistant".
   */
  @Test
  void publishedTemplatesGiveMasksOfExactlyTheAnswers() throws Exception {
    TinyLlama.write(dir, 5, TinyLlama.Size.DEFAULT);
    java.util.Map<String, String> expected =
        java.util.Map.of(
            "qwen2_5", "\nFine.<|im_end|>\n\nBye!<|im_end|>\n",
            "llama3_2", "Fine.<|eot_id|>Bye!<|eot_id|>");
    try (Tokenizer tokenizer = Tokenizer.load(dir)) {
      for (var entry : expected.entrySet()) {
        String source =
            com.google.gson.JsonParser.parseString(
                    java.nio.file.Files.readString(
                        Path.of(
                            "src/test/resources/reference/published-templates/"
                                + entry.getKey()
                                + ".json")))
                .getAsJsonObject()
                .get("chat_template")
                .getAsString();
        ChatEncoder.EncodedChat encoded =
            ChatEncoder.encode(
                tokenizer,
                new ChatTemplate(entry.getKey(), source),
                List.of(
                    ChatMessage.user("How are you? 😀"),
                    ChatMessage.assistant("Fine."),
                    ChatMessage.user("Bye"),
                    ChatMessage.assistant("Bye!")));
        assertEquals(entry.getValue(), assistantText(tokenizer, encoded), entry.getKey());
      }
      // Qwen 3's own template drops earlier turns' think blocks, so it cannot be masked turn by
      // turn; as TRL does, its training variant renders every turn's think block and marks it.
      String qwen3 =
          com.google.gson.JsonParser.parseString(
                  java.nio.file.Files.readString(
                      Path.of("src/test/resources/reference/published-templates/qwen3.json")))
              .getAsJsonObject()
              .get("chat_template")
              .getAsString();
      ChatEncoder.EncodedChat encoded =
          ChatEncoder.encode(
              tokenizer,
              new ChatTemplate("qwen3", qwen3),
              List.of(
                  ChatMessage.user("Hi"),
                  ChatMessage.assistant("<think>\nhm\n</think>\n\nFine."),
                  ChatMessage.user("Bye"),
                  ChatMessage.assistant("Bye!")));
      assertEquals(
          "<think>\nhm\n</think>\n\nFine.<|im_end|>\n<think>\n\n</think>\n\nBye!<|im_end|>\n",
          assistantText(tokenizer, encoded));
    }
  }
}
