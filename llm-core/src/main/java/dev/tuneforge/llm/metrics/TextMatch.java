package dev.tuneforge.llm.metrics;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Exact match, and accuracy and macro-F1 when references are labels. Texts are compared after
 * trimming surrounding whitespace, the only normalisation applied.
 */
public final class TextMatch {
  private TextMatch() {}

  /** Share of predictions equal to their reference (after trimming). */
  public static double exactMatch(List<String> predictions, List<String> references) {
    check(predictions, references);
    int equal = 0;
    for (int i = 0; i < predictions.size(); i++) {
      equal += predictions.get(i).strip().equals(references.get(i).strip()) ? 1 : 0;
    }
    return (double) equal / predictions.size();
  }

  /** Accuracy and macro-F1 over the labels seen in references or predictions. */
  public record Classification(double accuracy, double macroF1, Map<String, Double> f1ByLabel) {}

  /**
   * Macro-F1 as scikit-learn's {@code f1_score(average="macro")}: the unweighted mean over every
   * label that occurs in the references or the predictions, with F1 0 for a label never predicted
   * correctly.
   */
  public static Classification classification(List<String> predictions, List<String> references) {
    check(predictions, references);
    TreeSet<String> labels = new TreeSet<>();
    predictions.forEach(p -> labels.add(p.strip()));
    references.forEach(r -> labels.add(r.strip()));
    Map<String, Double> f1 = new TreeMap<>();
    int correct = 0;
    for (int i = 0; i < predictions.size(); i++) {
      correct += predictions.get(i).strip().equals(references.get(i).strip()) ? 1 : 0;
    }
    for (String label : labels) {
      int tp = 0;
      int fp = 0;
      int fn = 0;
      for (int i = 0; i < predictions.size(); i++) {
        boolean predicted = predictions.get(i).strip().equals(label);
        boolean actual = references.get(i).strip().equals(label);
        tp += predicted && actual ? 1 : 0;
        fp += predicted && !actual ? 1 : 0;
        fn += !predicted && actual ? 1 : 0;
      }
      f1.put(label, tp == 0 ? 0.0 : 2.0 * tp / (2.0 * tp + fp + fn));
    }
    double macro = f1.values().stream().mapToDouble(Double::doubleValue).average().orElse(0);
    return new Classification((double) correct / predictions.size(), macro, f1);
  }

  private static void check(List<String> predictions, List<String> references) {
    if (predictions.size() != references.size() || predictions.isEmpty()) {
      throw new IllegalArgumentException(
          predictions.size() + " predictions for " + references.size() + " references");
    }
  }
}
