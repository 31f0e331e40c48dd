package dev.tuneforge.llm.generate;

import java.util.Arrays;
import java.util.Random;

/**
 * Picks the next token from one row of logits, applying the processors in Hugging Face's order:
 * repetition penalty, temperature, top-k, top-p, then argmax or a draw from the softmax.
 */
final class TokenChooser {
  private final GenerationConfig config;
  private final Random random;

  TokenChooser(GenerationConfig config) {
    this.config = config;
    this.random = new Random(config.seed());
  }

  /**
   * @param logits next-token logits (modified in place)
   * @param seen tokens of the sequence so far (prompt and generated), for the repetition penalty
   */
  int choose(float[] logits, int[] seen) {
    if (config.repetitionPenalty() != 1.0) {
      penalize(logits, seen, (float) config.repetitionPenalty());
    }
    if (!config.doSample()) {
      return argmax(logits);
    }
    for (int i = 0; i < logits.length; i++) {
      logits[i] /= (float) config.temperature();
    }
    if (config.topK() > 0 && config.topK() < logits.length) {
      keepTopK(logits, config.topK());
    }
    if (config.topP() < 1.0) {
      keepTopP(logits, config.topP());
    }
    return draw(softmax(logits));
  }

  /**
   * CTRL (Keskar et al., 2019): a seen token's positive logit is divided, a negative multiplied.
   */
  static void penalize(float[] logits, int[] seen, float penalty) {
    boolean[] done = new boolean[logits.length];
    for (int token : seen) {
      if (token >= 0 && token < logits.length && !done[token]) {
        done[token] = true;
        logits[token] = logits[token] < 0 ? logits[token] * penalty : logits[token] / penalty;
      }
    }
  }

  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** Masks all but the k largest logits (ties at the k-th value are kept). */
  static void keepTopK(float[] logits, int k) {
    float[] sorted = logits.clone();
    Arrays.sort(sorted);
    float threshold = sorted[sorted.length - k];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] < threshold) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /**
   * Nucleus sampling (Holtzman et al., 2019): drops the least likely tokens whose cumulative
   * probability stays within {@code 1 - p}, always keeping the most likely one.
   */
  static void keepTopP(float[] logits, double p) {
    double[] probabilities = softmax(logits);
    Integer[] ascending = new Integer[logits.length];
    for (int i = 0; i < ascending.length; i++) {
      ascending[i] = i;
    }
    Arrays.sort(ascending, (a, b) -> Double.compare(probabilities[a], probabilities[b]));
    double cumulative = 0;
    for (int rank = 0; rank < ascending.length - 1; rank++) {
      cumulative += probabilities[ascending[rank]];
      if (cumulative > 1 - p) {
        break;
      }
      logits[ascending[rank]] = Float.NEGATIVE_INFINITY;
    }
  }

  static double[] softmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float logit : logits) {
      max = Math.max(max, logit);
    }
    double[] probabilities = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      probabilities[i] = Math.exp(logits[i] - max);
      sum += probabilities[i];
    }
    for (int i = 0; i < probabilities.length; i++) {
      probabilities[i] /= sum;
    }
    return probabilities;
  }

  private int draw(double[] probabilities) {
    double u = random.nextDouble();
    double cumulative = 0;
    int last = 0;
    for (int i = 0; i < probabilities.length; i++) {
      if (probabilities[i] > 0) {
        cumulative += probabilities[i];
        last = i;
        if (u < cumulative) {
          return i;
        }
      }
    }
    return last;
  }
}
