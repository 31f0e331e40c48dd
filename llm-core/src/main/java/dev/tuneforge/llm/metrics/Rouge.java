package dev.tuneforge.llm.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ROUGE as Google's {@code rouge-score} package computes it (what Hugging Face {@code evaluate}
 * wraps): text is lowercased, every run of characters outside {@code [a-z0-9]} becomes a space, and
 * the rest splits on whitespace; with {@code stem} (rouge-score's {@code use_stemmer=True}; off by
 * default, as there) tokens longer than three characters are Porter-stemmed ({@link
 * PorterStemmer}). {@code rougeN} is clipped n-gram overlap; {@code rougeL} the longest common
 * subsequence over the whole text; {@code rougeLsum} the summary-level union-LCS over
 * newline-separated sentences. An empty side scores 0.
 */
public final class Rouge {
  /** Precision, recall and F-measure of one comparison. */
  public record Score(double precision, double recall, double fmeasure) {
    static final Score ZERO = new Score(0, 0, 0);

    static Score of(double hits, int predictionCount, int targetCount) {
      if (predictionCount == 0 || targetCount == 0) {
        return ZERO;
      }
      double p = hits / predictionCount;
      double r = hits / targetCount;
      return new Score(p, r, p + r == 0 ? 0 : 2 * p * r / (p + r));
    }
  }

  private Rouge() {}

  /** rouge-score's DefaultTokenizer without stemming. */
  public static List<String> tokenize(String text) {
    return tokenize(text, false);
  }

  /** rouge-score's DefaultTokenizer; {@code stem} stems tokens of more than three characters. */
  public static List<String> tokenize(String text, boolean stem) {
    String cleaned = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", " ");
    List<String> tokens = new ArrayList<>();
    for (String token : cleaned.split("\\s+")) {
      if (!token.isEmpty()) {
        tokens.add(stem && token.length() > 3 ? PorterStemmer.stem(token) : token);
      }
    }
    return tokens;
  }

  /** ROUGE-N of {@code prediction} against {@code target} (target first, as rouge-score). */
  public static Score rougeN(String target, String prediction, int n) {
    return rougeN(target, prediction, n, false);
  }

  /** ROUGE-N, stemmed when {@code stem}. */
  public static Score rougeN(String target, String prediction, int n, boolean stem) {
    Map<List<String>, Integer> targetGrams = ngrams(tokenize(target, stem), n);
    Map<List<String>, Integer> predictionGrams = ngrams(tokenize(prediction, stem), n);
    int overlap = 0;
    for (Map.Entry<List<String>, Integer> gram : targetGrams.entrySet()) {
      overlap += Math.min(gram.getValue(), predictionGrams.getOrDefault(gram.getKey(), 0));
    }
    return Score.of(overlap, total(predictionGrams), total(targetGrams));
  }

  /** ROUGE-L: LCS over the whole text (newlines ignored). */
  public static Score rougeL(String target, String prediction) {
    return rougeL(target, prediction, false);
  }

  /** ROUGE-L, stemmed when {@code stem}. */
  public static Score rougeL(String target, String prediction, boolean stem) {
    List<String> t = tokenize(target, stem);
    List<String> p = tokenize(prediction, stem);
    if (t.isEmpty() || p.isEmpty()) {
      return Score.ZERO;
    }
    return Score.of(lcsTable(t, p)[t.size()][p.size()], p.size(), t.size());
  }

  /**
   * ROUGE-Lsum: for each target sentence, the union of its LCS tokens with every prediction
   * sentence; hits are clipped by the token counts of both sides, as ROUGE-1.5.5 does.
   */
  public static Score rougeLsum(String target, String prediction) {
    return rougeLsum(target, prediction, false);
  }

  /** ROUGE-Lsum, stemmed when {@code stem}. */
  public static Score rougeLsum(String target, String prediction, boolean stem) {
    List<List<String>> targetSentences = sentences(target, stem);
    List<List<String>> predictionSentences = sentences(prediction, stem);
    int targetCount = targetSentences.stream().mapToInt(List::size).sum();
    int predictionCount = predictionSentences.stream().mapToInt(List::size).sum();
    if (targetCount == 0 || predictionCount == 0) {
      return Score.ZERO;
    }
    Map<String, Integer> targetTokens = counts(targetSentences);
    Map<String, Integer> predictionTokens = counts(predictionSentences);
    int hits = 0;
    for (List<String> ref : targetSentences) {
      java.util.SortedSet<Integer> union = new java.util.TreeSet<>();
      for (List<String> candidate : predictionSentences) {
        union.addAll(lcsIndices(ref, candidate));
      }
      for (int index : union) {
        String token = ref.get(index);
        if (targetTokens.getOrDefault(token, 0) > 0
            && predictionTokens.getOrDefault(token, 0) > 0) {
          hits++;
          targetTokens.merge(token, -1, Integer::sum);
          predictionTokens.merge(token, -1, Integer::sum);
        }
      }
    }
    return Score.of(hits, predictionCount, targetCount);
  }

  private static List<List<String>> sentences(String text, boolean stem) {
    List<List<String>> sentences = new ArrayList<>();
    for (String line : text.split("\n")) {
      List<String> tokens = tokenize(line, stem);
      if (!tokens.isEmpty()) {
        sentences.add(tokens);
      }
    }
    return sentences;
  }

  private static Map<String, Integer> counts(List<List<String>> sentences) {
    Map<String, Integer> counts = new HashMap<>();
    sentences.forEach(s -> s.forEach(t -> counts.merge(t, 1, Integer::sum)));
    return counts;
  }

  private static int[][] lcsTable(List<String> a, List<String> b) {
    int[][] table = new int[a.size() + 1][b.size() + 1];
    for (int i = 1; i <= a.size(); i++) {
      for (int j = 1; j <= b.size(); j++) {
        table[i][j] =
            a.get(i - 1).equals(b.get(j - 1))
                ? table[i - 1][j - 1] + 1
                : Math.max(table[i - 1][j], table[i][j - 1]);
      }
    }
    return table;
  }

  /**
   * Indices into {@code ref} of one LCS with {@code candidate}, backtracked as rouge-score does.
   */
  private static List<Integer> lcsIndices(List<String> ref, List<String> candidate) {
    int[][] table = lcsTable(ref, candidate);
    List<Integer> indices = new ArrayList<>();
    int i = ref.size();
    int j = candidate.size();
    while (i > 0 && j > 0) {
      if (ref.get(i - 1).equals(candidate.get(j - 1))) {
        indices.add(0, i - 1);
        i--;
        j--;
      } else if (table[i][j - 1] > table[i - 1][j]) {
        j--;
      } else {
        i--;
      }
    }
    return indices;
  }

  private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
    Map<List<String>, Integer> grams = new HashMap<>();
    for (int i = 0; i + n <= tokens.size(); i++) {
      grams.merge(List.copyOf(tokens.subList(i, i + n)), 1, Integer::sum);
    }
    return grams;
  }

  private static int total(Map<List<String>, Integer> grams) {
    return grams.values().stream().mapToInt(Integer::intValue).sum();
  }
}
