package dev.tuneforge.llm.judge;

import dev.tuneforge.llm.generate.PromptTemplate;
import dev.tuneforge.llm.generate.TextGenerator;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An LLM as the judge (RLAIF): a model is asked, through a judging template, which of two responses
 * better answers the prompt, and its reply is parsed for the verdict. Position bias is checked by
 * asking twice, the responses swapped: a verdict counts only when both replies name the same
 * response; a flip counts as {@link Verdicts#inconsistent()}, a reply without a verdict as {@link
 * Verdicts#unparseable()}, and either leaves the prompt without a verdict.
 *
 * <p>The template holds {@code {prompt}}, {@code {first}} and {@code {second}}; they are filled in
 * one pass, so text inside a prompt or response is never read as a placeholder.
 */
public final class LlmJudge implements Judge {
  /** The default judging template: it asks for the number of the better response alone. */
  public static final String DEFAULT_TEMPLATE =
      "You compare two answers to the same request and decide which one is more helpful, correct"
          + " and harmless.\n\n"
          + "## Request\n{prompt}\n\n"
          + "## Answer 0\n{first}\n\n"
          + "## Answer 1\n{second}\n\n"
          + "Reply with the number of the better answer, 0 or 1, and nothing else.\n";

  private static final Pattern NUMBER = Pattern.compile("(?<![0-9A-Za-z])[0-9]+(?![0-9A-Za-z])");

  private final Tokenizer tokenizer;
  private final TextGenerator judge;
  private final PromptTemplate template;
  private final boolean swap;

  /**
   * @param tokenizer the policy's, to read the prompts and responses as text
   * @param judge the judging model (asked with seed 0: run it greedily)
   * @param template the judging prompt, holding {prompt}, {first} and {second}
   * @param swap ask a second time with the responses swapped (position-bias check)
   */
  public LlmJudge(Tokenizer tokenizer, TextGenerator judge, String template, boolean swap) {
    this.tokenizer = tokenizer;
    this.judge = judge;
    this.template = PromptTemplate.of(template, "prompt", "first", "second");
    this.swap = swap;
  }

  public LlmJudge(Tokenizer tokenizer, TextGenerator judge) {
    this(tokenizer, judge, DEFAULT_TEMPLATE, true);
  }

  /** The template with its placeholders filled in one pass. */
  public String render(String prompt, String first, String second) {
    return template.fill(Map.of("prompt", prompt, "first", first, "second", second));
  }

  /**
   * The verdict in a reply: 0 or 1 when that is the only number standing alone in it, else {@link
   * Judge#NO_VERDICT} (no number, another number, or both 0 and 1).
   */
  public static int parse(String reply) {
    if (reply == null) {
      return NO_VERDICT;
    }
    Matcher m = NUMBER.matcher(reply);
    int verdict = NO_VERDICT;
    while (m.find()) {
      String number = m.group();
      int value = number.equals("0") ? 0 : number.equals("1") ? 1 : -2;
      if (value == -2 || (verdict != NO_VERDICT && verdict != value)) {
        return NO_VERDICT;
      }
      verdict = value;
    }
    return verdict;
  }

  @Override
  public Verdicts judge(List<int[]> prompts, List<int[]> first, List<int[]> second) {
    int n = prompts.size();
    List<String> asks = new ArrayList<>(swap ? 2 * n : n);
    String[][] texts = new String[n][];
    for (int i = 0; i < n; i++) {
      texts[i] =
          new String[] {
            tokenizer.decode(prompts.get(i), true),
            tokenizer.decode(first.get(i), true),
            tokenizer.decode(second.get(i), true)
          };
      asks.add(render(texts[i][0], texts[i][1], texts[i][2]));
    }
    if (swap) {
      for (int i = 0; i < n; i++) {
        asks.add(render(texts[i][0], texts[i][2], texts[i][1]));
      }
    }
    List<String> replies = judge.complete(asks, 0);
    if (replies.size() != asks.size()) {
      throw new IllegalStateException(
          "the judging model answered " + replies.size() + " of " + asks.size() + " prompts");
    }
    int[] better = new int[n];
    int unparseable = 0;
    int inconsistent = 0;
    for (int i = 0; i < n; i++) {
      int asked = parse(replies.get(i));
      int swapped = swap ? parse(replies.get(n + i)) : NO_VERDICT;
      int verdict = asked;
      if (asked == NO_VERDICT || (swap && swapped == NO_VERDICT)) {
        unparseable++;
        verdict = NO_VERDICT;
      } else if (swap && swapped != 1 - asked) {
        inconsistent++;
        verdict = NO_VERDICT;
      }
      better[i] = verdict;
    }
    return new Verdicts(better, null, null, unparseable, inconsistent);
  }
}
