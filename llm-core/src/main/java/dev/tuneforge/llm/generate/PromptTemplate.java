package dev.tuneforge.llm.generate;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A text template with {@code {name}} placeholders, filled in one pass: text put in for one
 * placeholder is never read as another, so a prompt or response holding "{critique}" stays as it
 * is. Every placeholder the template needs must be given.
 */
public record PromptTemplate(String text, List<String> names) {
  public PromptTemplate {
    for (String name : names) {
      if (!text.contains("{" + name + "}")) {
        throw new IllegalArgumentException(
            "the template must hold {" + name + "}, and does not: " + text);
      }
    }
    names = List.copyOf(names);
  }

  public static PromptTemplate of(String text, String... names) {
    return new PromptTemplate(text, List.of(names));
  }

  /** The text with each placeholder replaced by its value. */
  public String fill(Map<String, String> values) {
    Pattern placeholder =
        Pattern.compile(
            "\\{(" + String.join("|", names.stream().map(Pattern::quote).toList()) + ")}");
    Matcher m = placeholder.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = values.get(m.group(1));
      if (value == null) {
        throw new IllegalArgumentException("no value for {" + m.group(1) + "}");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
