package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints generated text as it arrives: decodes everything so far and prints what is new, holding
 * back while the text ends in an incomplete UTF-8 character.
 */
final class StreamPrinter implements Generator.TokenListener {
  private final Tokenizer tokenizer;
  private final PrintWriter out;
  private final List<Integer> tokens = new ArrayList<>();
  private int printed;

  StreamPrinter(Tokenizer tokenizer, PrintWriter out) {
    this.tokenizer = tokenizer;
    this.out = out;
  }

  @Override
  public void onToken(int row, int token) {
    tokens.add(token);
    String text = tokenizer.decode(tokens.stream().mapToInt(Integer::intValue).toArray(), true);
    if (!text.endsWith("\uFFFD") && text.length() > printed) {
      out.print(text.substring(printed));
      out.flush();
      printed = text.length();
    }
  }
}
