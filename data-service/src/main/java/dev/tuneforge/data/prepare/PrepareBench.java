package dev.tuneforge.data.prepare;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Preparation throughput on one core: short chat records (a system prompt, one to three user and
 * assistant turns of a few words) read, validated, normalised, tokenized through the ChatML
 * template, deduplicated and split. Prints records/s and MiB/s (median of 5 runs after a warm-up)
 * for single-turn records and for one to three turns.
 *
 * <p>Run: {@code bash tools/bench/data-bench.sh [records]}.
 */
public final class PrepareBench {
  private PrepareBench() {}

  public static void main(String[] args) throws Exception {
    int records = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    Path dir = Files.createTempDirectory("prepare-bench");
    TinyLlama.writeTokenizer(dir);
    try (Tokenizer tokenizer = Tokenizer.load(dir)) {
      int cores = Runtime.getRuntime().availableProcessors();
      for (int threads : cores > 1 ? new int[] {1, cores} : new int[] {1}) {
        run("single-turn", chat(records, 1, new Random(1)), records, tokenizer, threads);
        run("1-3 turns", chat(records, 3, new Random(1)), records, tokenizer, threads);
      }
    }
  }

  private static void run(
      String label, String text, int records, Tokenizer tokenizer, int threads) {
    byte[] data = text.getBytes(StandardCharsets.UTF_8);
    {
      DatasetPreparer preparer =
          new DatasetPreparer(new TokenLengths(tokenizer, ChatTemplate.builtIn("chatml")), threads);
      PreparationOptions options = PreparationOptions.defaults(2048, 1);
      double[] rates = new double[6];
      for (int run = 0; run < rates.length; run++) {
        long start = System.nanoTime();
        DatasetPreparer.Outcome outcome =
            preparer.prepare(
                new DatasetPreparer.Input("training_file", "b.jsonl", data), null, options);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!(outcome instanceof DatasetPreparer.Prepared prepared)) {
          throw new IllegalStateException("benchmark data was refused: " + outcome);
        }
        rates[run] = records / seconds;
        if (run == 0) {
          System.out.println(label + " warm-up: " + prepared.stats().summary());
        }
      }
      double[] timed = java.util.Arrays.copyOfRange(rates, 1, rates.length);
      java.util.Arrays.sort(timed);
      System.out.printf(
          "prepare %s: %d chat records (%.1f MiB), %d thread(s): median %.0f records/s, %.1f"
              + " MiB/s (min %.0f, max %.0f records/s)%n",
          label,
          records,
          data.length / 1048576.0,
          threads,
          timed[timed.length / 2],
          timed[timed.length / 2] * data.length / records / 1048576.0,
          timed[0],
          timed[timed.length - 1]);
    }
  }

  static String chat(int records, int maxTurns, Random random) {
    String[] words = {
      "please",
      "summarise",
      "the",
      "report",
      "what",
      "is",
      "our",
      "refund",
      "policy",
      "thanks",
      "order",
      "shipped",
      "today",
      "tomorrow",
      "account",
      "password",
      "reset",
      "help",
      "invoice"
    };
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < records; i++) {
      out.append("{\"messages\":[{\"role\":\"system\",\"content\":\"You are a support agent.\"}");
      int turns = 1 + random.nextInt(maxTurns);
      for (int t = 0; t < turns; t++) {
        out.append(",{\"role\":\"user\",\"content\":\"")
            .append(sentence(words, random))
            .append(' ')
            .append(i)
            .append("\"},{\"role\":\"assistant\",\"content\":\"")
            .append(sentence(words, random))
            .append("\"}");
      }
      out.append("]}\n");
    }
    return out.toString();
  }

  private static String sentence(String[] words, Random random) {
    StringBuilder sentence = new StringBuilder();
    int length = 4 + random.nextInt(8);
    for (int w = 0; w < length; w++) {
      sentence.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
    }
    return sentence.toString();
  }
}
