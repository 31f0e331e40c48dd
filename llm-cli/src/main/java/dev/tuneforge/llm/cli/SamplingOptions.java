package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.model.LlamaConfig;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/** Generation options of {@code generate} and {@code chat}, named as in Hugging Face. */
final class SamplingOptions {
  @Option(
      names = "--max-new-tokens",
      defaultValue = "128",
      description = "Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(
      names = "--temperature",
      description = "Sample with this temperature (greedy when unset).")
  Double temperature;

  @Option(
      names = "--top-k",
      defaultValue = "0",
      description = "Keep the k most likely tokens (0: all).")
  int topK;

  @Option(
      names = "--top-p",
      defaultValue = "1.0",
      description = "Nucleus sampling mass (1.0: all).")
  double topP;

  @Option(names = "--repetition-penalty", defaultValue = "1.0")
  double repetitionPenalty;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of sampling (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--stop", description = "Stop string (repeatable).")
  List<String> stop = new ArrayList<>();

  @Option(
      names = "--no-cache",
      description = "Re-read the whole sequence each step (for comparison).")
  boolean noCache;

  GenerationConfig config(LlamaConfig model, Tokenizer tokenizer, Set<Integer> extraStops) {
    Set<Integer> stops = new HashSet<>(model.eosTokenIds());
    if (tokenizer.special().eosId() >= 0) {
      stops.add(tokenizer.special().eosId());
    }
    stops.addAll(extraStops);
    boolean sample = temperature != null;
    return new GenerationConfig(
        maxNewTokens,
        sample,
        sample ? temperature : 1.0,
        topK,
        topP,
        repetitionPenalty,
        stops,
        stop,
        seed,
        !noCache);
  }
}
