package dev.tuneforge.data.job;

import dev.tuneforge.data.config.DataConfig;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import dev.tuneforge.platform.storage.ObjectStore;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tokenizer and chat template of each base model, read from {@code models/{name}/} once and
 * kept: only the tokenizer files are fetched (tokenizer.json, tokenizer_config.json and any
 * chat_template.jinja), never the weights.
 */
@ApplicationScoped
public class ModelTokenizers {
  static final List<String> FILES =
      List.of("tokenizer.json", "tokenizer_config.json", "chat_template.jinja");

  /** A model's tokenizer and its own chat template, if it has one. */
  public record ModelText(Tokenizer tokenizer, Optional<ChatTemplate> template) {}

  private final ObjectStore store;
  private final DataConfig config;
  private final Map<String, ModelText> loaded = new ConcurrentHashMap<>();

  ModelTokenizers(ObjectStore store, DataConfig config) {
    this.store = store;
    this.config = config;
  }

  /**
   * @throws IllegalArgumentException when the model is not in storage, naming the missing key
   */
  public ModelText of(String modelName) {
    String prefix = StoredFiles.modelPrefix(modelName, store.bucket());
    return loaded.computeIfAbsent(prefix, this::load);
  }

  private ModelText load(String prefix) {
    if (store.stat(prefix + "tokenizer.json").isEmpty()) {
      throw new IllegalArgumentException(
          "base model is not in storage: "
              + prefix
              + "tokenizer.json is missing (upload the Hugging Face directory under "
              + prefix
              + ")");
    }
    Path dir = Path.of(config.modelCache()).resolve(prefix.replace('/', '_'));
    try {
      Files.createDirectories(dir);
      for (String file : FILES) {
        if (store.stat(prefix + file).isPresent()) {
          Path partial = dir.resolve(file + ".partial");
          try (var in = store.get(prefix + file)) {
            Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
          }
          Files.move(partial, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot cache the tokenizer of " + prefix + " in " + dir, e);
    }
    Tokenizer tokenizer = Tokenizer.load(dir);
    return new ModelText(tokenizer, ChatTemplate.fromModel(dir, tokenizer.config(), "default"));
  }

  @PreDestroy
  void close() {
    loaded.values().forEach(m -> m.tokenizer().close());
  }
}
