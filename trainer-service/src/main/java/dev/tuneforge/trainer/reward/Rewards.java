package dev.tuneforge.trainer.reward;

import dev.tuneforge.llm.rl.RewardScorer;
import dev.tuneforge.llm.rl.TextReward;
import dev.tuneforge.platform.storage.LocalCopies;
import dev.tuneforge.platform.storage.NamedPrefixes;
import dev.tuneforge.platform.storage.ObjectStore;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The reward a PPO or Best-of-N job is scored by: a reward model this replica loads itself when
 * {@code tuneforge.trainer.reward.local-models} names it ({@code name=prefix/}, an HF
 * sequence-classification directory in the bucket), reward-service otherwise.
 */
@ApplicationScoped
public class Rewards {
  private final RemoteRewards remote;
  private final ObjectStore store;
  private final Map<String, String> local;
  private final Path workDir;
  private final Map<String, RewardScorer> loaded = new LinkedHashMap<>();

  Rewards(
      RemoteRewards remote, ObjectStore store, dev.tuneforge.trainer.config.TrainerConfig config) {
    this.remote = remote;
    this.store = store;
    this.local =
        NamedPrefixes.parse("tuneforge.trainer.reward.local-models", config.reward().localModels());
    this.workDir = Path.of(config.workDir()).resolve("reward-models");
  }

  /** Reward model {@code name} for job {@code jobId}. */
  public TextReward of(String jobId, String name) {
    if (!local.containsKey(name)) {
      return remote.of(jobId, name);
    }
    return load(name).reward(16);
  }

  public boolean isLocal(String name) {
    return local.containsKey(name);
  }

  private synchronized RewardScorer load(String name) {
    return loaded.computeIfAbsent(
        name,
        n ->
            RewardScorer.load(
                LocalCopies.copyPrefix(store, local.get(n), workDir.resolve(n)),
                base -> LocalCopies.baseModel(store, base, workDir.resolve("bases"))));
  }

  @PreDestroy
  synchronized void close() {
    loaded.values().forEach(RewardScorer::close);
  }
}
