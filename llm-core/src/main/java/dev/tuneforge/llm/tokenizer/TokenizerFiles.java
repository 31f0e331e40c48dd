package dev.tuneforge.llm.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The files of a Hugging Face model directory that describe its tokenizer, chat template and
 * generation defaults: what a saved model (fine-tuned, merged or a reward model) needs next to its
 * weights to load as its base does.
 */
public final class TokenizerFiles {
  public static final List<String> NAMES =
      List.of(
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "tokenizer.model",
          "generation_config.json",
          "chat_template.jinja");

  private TokenizerFiles() {}

  /** Copies those of {@link #NAMES} that {@code from} has into {@code to}. */
  public static void copy(Path from, Path to) {
    try {
      Files.createDirectories(to);
      for (String name : NAMES) {
        if (Files.isRegularFile(from.resolve(name))) {
          Files.copy(from.resolve(name), to.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot copy the tokenizer files from " + from + " to " + to, e);
    }
  }
}
