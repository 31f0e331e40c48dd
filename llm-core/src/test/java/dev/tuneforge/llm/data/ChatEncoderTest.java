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

      List<Integer> assistantIds = new ArrayList<>();
      for (int i = 0; i < encoded.ids().length; i++) {
        if (encoded.assistant()[i]) {
          assistantIds.add(encoded.ids()[i]);
        }
      }
      String assistantText =
          tokenizer.decode(assistantIds.stream().mapToInt(Integer::intValue).toArray(), false);
      assertEquals("Hello, the end.<|im_end|>\nCiao<|im_end|>\n", assistantText);
      String all = tokenizer.decode(encoded.ids(), false);
      assertEquals(
          "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello, the end.<|im_end|>\n"
              + "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\nCiao<|im_end|>\n",
          all);
    }
  }
}
