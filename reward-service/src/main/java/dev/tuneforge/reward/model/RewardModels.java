package dev.tuneforge.reward.model;

import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import dev.tuneforge.platform.storage.LocalCopies;
import dev.tuneforge.platform.storage.ObjectStore;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The reward models this replica serves ({@code tuneforge.reward.models}: {@code name=prefix}
 * pairs), each an HF sequence-classification directory in the bucket, copied and loaded on first
 * use. A (prompt, response) pair is scored as training scored it: the prompt tokenized as the
 * tokenizer's config asks, the response after it and EOS, the reward read at the last token.
 */
@ApplicationScoped
public class RewardModels {
  /** One text pair to score. */
  public record Item(String prompt, String response) {}

  private record Loaded(RewardModel model, Tokenizer tokenizer) {}

  private final ObjectStore store;
  private final Map<String, String> prefixes;
  private final Path workDir;
  private final Map<String, Loaded> loaded = new LinkedHashMap<>();

  RewardModels(
      ObjectStore store,
      @ConfigProperty(name = "tuneforge.reward.models") java.util.Optional<String> configured,
      @ConfigProperty(name = "tuneforge.reward.work-dir") String workDir) {
    this.store = store;
    this.workDir = Path.of(workDir);
    Map<String, String> parsed = new LinkedHashMap<>();
    for (String pair : configured.orElse("").split(",")) {
      String trimmed = pair.strip();
      if (trimmed.isEmpty()) {
        continue;
      }
      int equals = trimmed.indexOf('=');
      if (equals <= 0 || !trimmed.endsWith("/")) {
        throw new IllegalArgumentException(
            "tuneforge.reward.models entries are name=prefix/ but one was \"" + trimmed + "\"");
      }
      parsed.put(trimmed.substring(0, equals), trimmed.substring(equals + 1));
    }
    this.prefixes = Map.copyOf(parsed);
  }

  /** The names served, in configuration order. */
  public List<String> names() {
    return List.copyOf(prefixes.keySet());
  }

  public boolean serves(String name) {
    return prefixes.containsKey(name);
  }

  /** Scores every item with model {@code name}; one batch at a time per replica. */
  public synchronized double[] score(String name, List<Item> items) {
    Loaded model = loaded.computeIfAbsent(name, this::load);
    List<int[]> prompts = new ArrayList<>();
    List<int[]> responses = new ArrayList<>();
    int eos = model.tokenizer().special().eosId();
    for (Item item : items) {
      int[] prompt = model.tokenizer().encode(item.prompt() == null ? "" : item.prompt());
      int[] response = model.tokenizer().encodePlain(item.response());
      if (eos >= 0) {
        response = java.util.Arrays.copyOf(response, response.length + 1);
        response[response.length - 1] = eos;
      }
      if (prompt.length == 0) {
        prompt = new int[] {response[0]};
        response = java.util.Arrays.copyOfRange(response, 1, Math.max(2, response.length));
      }
      prompts.add(prompt);
      responses.add(response);
    }
    return model.model().score(prompts, responses, 16);
  }

  private Loaded load(String name) {
    String prefix = prefixes.get(name);
    if (prefix == null) {
      throw new IllegalArgumentException("reward model \"" + name + "\" is not served here");
    }
    Path dir = LocalCopies.copyPrefix(store, prefix, workDir.resolve(name));
    RewardModel model = RewardModel.load(dir, Compute.CPU_FLOAT32, LlamaModel.Projections.DENSE);
    return new Loaded(model, Tokenizer.load(dir));
  }

  @PreDestroy
  synchronized void close() {
    loaded
        .values()
        .forEach(
            l -> {
              l.model().close();
              l.tokenizer().close();
            });
  }
}
