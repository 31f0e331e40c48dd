package dev.tuneforge.llm.generate;

import java.util.List;
import java.util.Set;

/**
 * How to generate, with Hugging Face {@code generate()} names and defaults.
 *
 * @param maxNewTokens tokens to add at most (typ. 16-1024)
 * @param doSample sample from the distribution; false picks the most likely token (greedy)
 * @param temperature divides the logits when sampling; typ. 0.2-1.5
 * @param topK keep the k most likely tokens when sampling; 0 keeps all
 * @param topP keep the smallest set of tokens whose probability reaches p; 1.0 keeps all
 * @param repetitionPenalty CTRL penalty on tokens already in the sequence; 1.0 is off, typ. 1.1-1.3
 * @param stopTokenIds tokens that end a sequence (usually the EOS ids), kept in the output
 * @param stopStrings texts that end a sequence; the output is cut before them
 * @param seed seeds sampling, so the same call gives the same text
 * @param useCache reuse keys and values of earlier tokens (a KV cache)
 */
public record GenerationConfig(
    int maxNewTokens,
    boolean doSample,
    double temperature,
    int topK,
    double topP,
    double repetitionPenalty,
    Set<Integer> stopTokenIds,
    List<String> stopStrings,
    long seed,
    boolean useCache) {

  public GenerationConfig {
    if (maxNewTokens <= 0) {
      throw new IllegalArgumentException("max_new_tokens must be > 0 but was " + maxNewTokens);
    }
    if (!(temperature > 0)) {
      throw new IllegalArgumentException("temperature must be > 0 but was " + temperature);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("top_k must be >= 0 but was " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top_p must be in (0, 1] but was " + topP);
    }
    if (!(repetitionPenalty > 0)) {
      throw new IllegalArgumentException(
          "repetition_penalty must be > 0 but was " + repetitionPenalty);
    }
    stopTokenIds = Set.copyOf(stopTokenIds);
    stopStrings = List.copyOf(stopStrings);
  }

  /** Greedy decoding of up to {@code maxNewTokens}, stopping at {@code stopTokenIds}. */
  public static GenerationConfig greedy(int maxNewTokens, Set<Integer> stopTokenIds) {
    return new GenerationConfig(
        maxNewTokens, false, 1.0, 0, 1.0, 1.0, stopTokenIds, List.of(), 0, true);
  }

  /** The same settings with at most {@code tokens} new tokens. */
  public GenerationConfig withMaxNewTokens(int tokens) {
    return new GenerationConfig(
        tokens,
        doSample,
        temperature,
        topK,
        topP,
        repetitionPenalty,
        stopTokenIds,
        stopStrings,
        seed,
        useCache);
  }

  public GenerationConfig withCache(boolean cache) {
    return new GenerationConfig(
        maxNewTokens,
        doSample,
        temperature,
        topK,
        topP,
        repetitionPenalty,
        stopTokenIds,
        stopStrings,
        seed,
        cache);
  }

  public GenerationConfig withSampling(double temperature, int topK, double topP, long seed) {
    return new GenerationConfig(
        maxNewTokens,
        true,
        temperature,
        topK,
        topP,
        repetitionPenalty,
        stopTokenIds,
        stopStrings,
        seed,
        useCache);
  }

  public GenerationConfig withRepetitionPenalty(double penalty) {
    return new GenerationConfig(
        maxNewTokens,
        doSample,
        temperature,
        topK,
        topP,
        penalty,
        stopTokenIds,
        stopStrings,
        seed,
        useCache);
  }

  public GenerationConfig withStopStrings(List<String> strings) {
    return new GenerationConfig(
        maxNewTokens,
        doSample,
        temperature,
        topK,
        topP,
        repetitionPenalty,
        stopTokenIds,
        strings,
        seed,
        useCache);
  }
}
