package dev.tuneforge.llm.metrics;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Corpus BLEU as sacreBLEU 2.x computes it by default: the 13a (mteval-v13a) tokenizer, case kept,
 * n-grams up to 4, {@code exp} smoothing, the closest reference length (ties to the shorter), and
 * n-gram counts clipped by the maximum over references. Scores are 0-100.
 */
public final class Bleu {
  static final int MAX_ORDER = 4;

  /** The score with the figures sacreBLEU prints. */
  public record Score(
      double score,
      double[] precisions,
      double brevityPenalty,
      long hypothesisLength,
      long referenceLength,
      long[] counts,
      long[] totals) {}

  private Bleu() {}

  /**
   * @param hypotheses one per segment
   * @param references reference streams, each aligned with the hypotheses (sacreBLEU's layout)
   */
  public static Score corpus(List<String> hypotheses, List<List<String>> references) {
    for (List<String> stream : references) {
      if (stream.size() != hypotheses.size()) {
        throw new IllegalArgumentException(
            "a reference stream has "
                + stream.size()
                + " segments but there are "
                + hypotheses.size()
                + " hypotheses");
      }
    }
    long hypLength = 0;
    long refLength = 0;
    long[] correct = new long[MAX_ORDER];
    long[] total = new long[MAX_ORDER];
    for (int s = 0; s < hypotheses.size(); s++) {
      String[] hyp = tokenize13a(hypotheses.get(s).stripTrailing());
      hypLength += hyp.length;
      Map<List<String>, Integer> maxRef = new HashMap<>();
      int closest = -1;
      for (List<String> stream : references) {
        String[] ref = tokenize13a(stream.get(s).stripTrailing());
        int diff = Math.abs(ref.length - hyp.length);
        int best = closest < 0 ? Integer.MAX_VALUE : Math.abs(closest - hyp.length);
        if (closest < 0 || diff < best || (diff == best && ref.length < closest)) {
          closest = ref.length;
        }
        for (Map.Entry<List<String>, Integer> gram : ngrams(ref).entrySet()) {
          maxRef.merge(gram.getKey(), gram.getValue(), Math::max);
        }
      }
      refLength += Math.max(closest, 0);
      for (Map.Entry<List<String>, Integer> gram : ngrams(hyp).entrySet()) {
        int order = gram.getKey().size() - 1;
        total[order] += gram.getValue();
        correct[order] += Math.min(gram.getValue(), maxRef.getOrDefault(gram.getKey(), 0));
      }
    }
    return score(correct, total, hypLength, refLength, false);
  }

  /** sacreBLEU's sentence_bleu of {@code hypothesis} against its {@code references}. */
  public static Score sentence(String hypothesis, List<String> references) {
    if (references.isEmpty()) {
      throw new IllegalArgumentException("sentence BLEU needs at least one reference");
    }
    List<List<String>> streams = references.stream().map(List::of).toList();
    Score stats = corpus(List.of(hypothesis), streams);
    return score(
        stats.counts(), stats.totals(), stats.hypothesisLength(), stats.referenceLength(), true);
  }

  /** sacreBLEU's compute_bleu with exp smoothing and no effective order. */
  static Score score(long[] correct, long[] total, long hypLength, long refLength) {
    return score(correct, total, hypLength, refLength, false);
  }

  /**
   * sacreBLEU's compute_bleu with exp smoothing; with {@code effectiveOrder} the geometric mean
   * runs over the orders up to the last one the hypothesis has n-grams of.
   */
  static Score score(
      long[] correct, long[] total, long hypLength, long refLength, boolean effectiveOrder) {
    double[] precisions = new double[MAX_ORDER];
    double bp =
        hypLength == 0
            ? 0
            : hypLength >= refLength ? 1 : Math.exp(1 - (double) refLength / hypLength);
    if (hypLength == 0 || correct[0] == 0) {
      return new Score(0, precisions, bp, hypLength, refLength, correct, total);
    }
    double smooth = 1;
    double logSum = 0;
    int order = MAX_ORDER;
    for (int n = 0; n < MAX_ORDER; n++) {
      if (total[n] == 0) {
        break;
      }
      if (effectiveOrder) {
        order = n + 1;
      }
      if (correct[n] == 0) {
        smooth *= 2;
        precisions[n] = 100.0 / (smooth * total[n]);
      } else {
        precisions[n] = 100.0 * correct[n] / total[n];
      }
    }
    for (int n = 0; n < order; n++) {
      logSum += precisions[n] == 0 ? -9999999999.0 : Math.log(precisions[n]);
    }
    double score = bp * Math.exp(logSum / order);
    return new Score(score, precisions, bp, hypLength, refLength, correct, total);
  }

  private static Map<List<String>, Integer> ngrams(String[] tokens) {
    Map<List<String>, Integer> grams = new HashMap<>();
    for (int n = 1; n <= MAX_ORDER; n++) {
      for (int i = 0; i + n <= tokens.length; i++) {
        grams.merge(List.of(java.util.Arrays.copyOfRange(tokens, i, i + n)), 1, Integer::sum);
      }
    }
    return grams;
  }

  private static final Pattern PUNCTUATION =
      Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
  private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([\\.,])");
  private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([\\.,])([^0-9])");
  private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

  /** The mteval-v13a tokenization sacreBLEU uses by default. */
  public static String[] tokenize13a(String line) {
    String text = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
    if (text.contains("&")) {
      text =
          text.replace("&quot;", "\"")
              .replace("&amp;", "&")
              .replace("&lt;", "<")
              .replace("&gt;", ">");
    }
    text = " " + text + " ";
    text = PUNCTUATION.matcher(text).replaceAll(" $1 ");
    text = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(text).replaceAll("$1 $2 ");
    text = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(text).replaceAll(" $1 $2");
    text = DASH_AFTER_DIGIT.matcher(text).replaceAll("$1 $2 ");
    String stripped = text.strip();
    return stripped.isEmpty() ? new String[0] : stripped.split("\\s+");
  }
}
