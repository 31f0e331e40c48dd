package dev.tuneforge.reward.model;

import dev.tuneforge.llm.rl.RewardScorer;
import dev.tuneforge.platform.storage.LocalCopies;
import dev.tuneforge.platform.storage.NamedPrefixes;
import dev.tuneforge.platform.storage.ObjectStore;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reward models this replica serves ({@code tuneforge.reward.models}: {@code name=prefix}
 * pairs), each an HF sequence-classification directory in the bucket, or a PEFT
 * sequence-classification adapter over a base model of the bucket ({@link LocalCopies#baseModel}),
 * copied and loaded on first use. A (prompt, response) pair is scored as training scored it: the
 * prompt tokenized as the tokenizer's config asks, the response after it and EOS, the reward read
 * at the last token.
 */
@ApplicationScoped
public class RewardModels {
  /** One text pair to score. */
  public record Item(String prompt, String response) {}

  private final ObjectStore store;
  private final Map<String, String> prefixes;
  private final Path workDir;
  private final Map<String, RewardScorer> loaded = new LinkedHashMap<>();

  RewardModels(ObjectStore store, dev.tuneforge.reward.config.RewardConfig config) {
    this.store = store;
    this.workDir = Path.of(config.workDir());
    this.prefixes = NamedPrefixes.parse("tuneforge.reward.models", config.models());
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
    return loaded
        .computeIfAbsent(name, this::load)
        .score(
            items.stream().map(Item::prompt).toList(), items.stream().map(Item::response).toList());
  }

  private RewardScorer load(String name) {
    String prefix = prefixes.get(name);
    if (prefix == null) {
      throw new IllegalArgumentException("reward model \"" + name + "\" is not served here");
    }
    return RewardScorer.load(
        LocalCopies.copyPrefix(store, prefix, workDir.resolve(name)),
        base -> LocalCopies.baseModel(store, base, workDir.resolve("bases")));
  }

  @PreDestroy
  synchronized void close() {
    loaded.values().forEach(RewardScorer::close);
  }
}
