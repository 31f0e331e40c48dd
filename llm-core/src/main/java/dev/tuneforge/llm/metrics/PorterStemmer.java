package dev.tuneforge.llm.metrics;

import java.util.Map;
import java.util.function.Predicate;

/**
 * The Porter (1980) suffix-stripping stemmer in the variant NLTK uses by default
 * ("NLTK_EXTENSIONS"), which rouge-score applies with {@code use_stemmer=True}. Beyond the paper: a
 * few irregular forms map straight to their stem; words of one or two letters stay as they are;
 * {@code -ies}/{@code -ied} of four-letter words keep {@code ie}; {@code y → i} needs a consonant
 * before it and more than one letter; step 2 also takes {@code -bli}, {@code -fulli}, {@code
 * -logi}, and re-runs after {@code -alli → al}; {@code *o} also holds for a two-letter
 * vowel-consonant stem. Input is lowercase ASCII letters (ROUGE's tokens).
 */
public final class PorterStemmer {
  private static final Map<String, String> IRREGULAR =
      Map.ofEntries(
          Map.entry("sky", "sky"),
          Map.entry("skies", "sky"),
          Map.entry("dying", "die"),
          Map.entry("lying", "lie"),
          Map.entry("tying", "tie"),
          Map.entry("news", "news"),
          Map.entry("innings", "inning"),
          Map.entry("inning", "inning"),
          Map.entry("outings", "outing"),
          Map.entry("outing", "outing"),
          Map.entry("cannings", "canning"),
          Map.entry("canning", "canning"),
          Map.entry("howe", "howe"),
          Map.entry("proceed", "proceed"),
          Map.entry("exceed", "exceed"),
          Map.entry("succeed", "succeed"));

  private PorterStemmer() {}

  /** The stem of {@code word}. */
  public static String stem(String word) {
    String irregular = IRREGULAR.get(word);
    if (irregular != null) {
      return irregular;
    }
    if (word.length() <= 2) {
      return word;
    }
    String w = step1a(word);
    w = step1b(w);
    w = step1c(w);
    w = step2(w);
    w = step3(w);
    w = step4(w);
    w = step5a(w);
    return step5b(w);
  }

  // --- the paper's conditions -------------------------------------------------------------

  /** A letter other than a, e, i, o, u, and other than y after a consonant. */
  static boolean consonant(String w, int i) {
    char c = w.charAt(i);
    if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') {
      return false;
    }
    return c != 'y' || i == 0 || !consonant(w, i - 1);
  }

  /** m in [C](VC){m}[V]: the number of vowel-to-consonant transitions. */
  static int measure(String stem) {
    int m = 0;
    for (int i = 1; i < stem.length(); i++) {
      if (consonant(stem, i) && !consonant(stem, i - 1)) {
        m++;
      }
    }
    return m;
  }

  private static boolean hasVowel(String stem) {
    for (int i = 0; i < stem.length(); i++) {
      if (!consonant(stem, i)) {
        return true;
      }
    }
    return false;
  }

  private static boolean endsDoubleConsonant(String w) {
    int n = w.length();
    return n >= 2 && w.charAt(n - 1) == w.charAt(n - 2) && consonant(w, n - 1);
  }

  /** *o: ends consonant-vowel-consonant, the last not w, x or y (or is vowel-consonant). */
  private static boolean endsCvc(String w) {
    int n = w.length();
    if (n >= 3) {
      char last = w.charAt(n - 1);
      return consonant(w, n - 3)
          && !consonant(w, n - 2)
          && consonant(w, n - 1)
          && last != 'w'
          && last != 'x'
          && last != 'y';
    }
    return n == 2 && !consonant(w, 0) && consonant(w, 1);
  }

  private static boolean positive(String stem) {
    return measure(stem) > 0;
  }

  /** One suffix rule: the stem must satisfy {@code condition} for the replacement to apply. */
  private record Rule(String suffix, String replacement, Predicate<String> condition) {}

  /**
   * The first rule whose suffix ends {@code w} decides: it replaces the suffix if its condition
   * holds, or leaves the word as it is.
   */
  private static String firstRule(String w, Rule... rules) {
    for (Rule rule : rules) {
      if (w.endsWith(rule.suffix())) {
        String stem = w.substring(0, w.length() - rule.suffix().length());
        return rule.condition().test(stem) ? stem + rule.replacement() : w;
      }
    }
    return w;
  }

  // --- the steps ------------------------------------------------------------------------------

  private static String step1a(String w) {
    if (w.endsWith("ies") && w.length() == 4) {
      return w.substring(0, 1) + "ie";
    }
    return firstRule(
        w,
        new Rule("sses", "ss", s -> true),
        new Rule("ies", "i", s -> true),
        new Rule("ss", "ss", s -> true),
        new Rule("s", "", s -> true));
  }

  private static String step1b(String w) {
    if (w.endsWith("ied")) {
      return w.substring(0, w.length() - 3) + (w.length() == 4 ? "ie" : "i");
    }
    if (w.endsWith("eed")) {
      String stem = w.substring(0, w.length() - 3);
      return measure(stem) > 0 ? stem + "ee" : w;
    }
    String stem = null;
    for (String suffix : new String[] {"ed", "ing"}) {
      if (w.endsWith(suffix) && hasVowel(w.substring(0, w.length() - suffix.length()))) {
        stem = w.substring(0, w.length() - suffix.length());
        break;
      }
    }
    if (stem == null) {
      return w;
    }
    if (stem.endsWith("at") || stem.endsWith("bl") || stem.endsWith("iz")) {
      return stem + "e";
    }
    if (endsDoubleConsonant(stem)) {
      char last = stem.charAt(stem.length() - 1);
      return last == 'l' || last == 's' || last == 'z'
          ? stem
          : stem.substring(0, stem.length() - 1);
    }
    return measure(stem) == 1 && endsCvc(stem) ? stem + "e" : stem;
  }

  private static String step1c(String w) {
    return firstRule(w, new Rule("y", "i", s -> s.length() > 1 && consonant(s, s.length() - 1)));
  }

  private static String step2(String w) {
    if (w.endsWith("alli") && positive(w.substring(0, w.length() - 4))) {
      return step2(w.substring(0, w.length() - 4) + "al");
    }
    Predicate<String> m = PorterStemmer::positive;
    return firstRule(
        w,
        new Rule("ational", "ate", m),
        new Rule("tional", "tion", m),
        new Rule("enci", "ence", m),
        new Rule("anci", "ance", m),
        new Rule("izer", "ize", m),
        new Rule("bli", "ble", m),
        new Rule("alli", "al", m),
        new Rule("entli", "ent", m),
        new Rule("eli", "e", m),
        new Rule("ousli", "ous", m),
        new Rule("ization", "ize", m),
        new Rule("ation", "ate", m),
        new Rule("ator", "ate", m),
        new Rule("alism", "al", m),
        new Rule("iveness", "ive", m),
        new Rule("fulness", "ful", m),
        new Rule("ousness", "ous", m),
        new Rule("aliti", "al", m),
        new Rule("iviti", "ive", m),
        new Rule("biliti", "ble", m),
        new Rule("fulli", "ful", m),
        // -logi keeps its l: the measure is taken of the word without "ogi".
        new Rule("logi", "log", s -> positive(w.substring(0, w.length() - 3))));
  }

  private static String step3(String w) {
    Predicate<String> m = PorterStemmer::positive;
    return firstRule(
        w,
        new Rule("icate", "ic", m),
        new Rule("ative", "", m),
        new Rule("alize", "al", m),
        new Rule("iciti", "ic", m),
        new Rule("ical", "ic", m),
        new Rule("ful", "", m),
        new Rule("ness", "", m));
  }

  private static String step4(String w) {
    Predicate<String> m = s -> measure(s) > 1;
    return firstRule(
        w,
        new Rule("al", "", m),
        new Rule("ance", "", m),
        new Rule("ence", "", m),
        new Rule("er", "", m),
        new Rule("ic", "", m),
        new Rule("able", "", m),
        new Rule("ible", "", m),
        new Rule("ant", "", m),
        new Rule("ement", "", m),
        new Rule("ment", "", m),
        new Rule("ent", "", m),
        new Rule("ion", "", s -> measure(s) > 1 && (s.endsWith("s") || s.endsWith("t"))),
        new Rule("ou", "", m),
        new Rule("ism", "", m),
        new Rule("ate", "", m),
        new Rule("iti", "", m),
        new Rule("ous", "", m),
        new Rule("ive", "", m),
        new Rule("ize", "", m));
  }

  private static String step5a(String w) {
    if (w.endsWith("e")) {
      String stem = w.substring(0, w.length() - 1);
      int m = measure(stem);
      if (m > 1 || (m == 1 && !endsCvc(stem))) {
        return stem;
      }
    }
    return w;
  }

  private static String step5b(String w) {
    return w.endsWith("ll") && measure(w.substring(0, w.length() - 1)) > 1
        ? w.substring(0, w.length() - 1)
        : w;
  }
}
