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
 * for single-turn records and for one to three turns; then the resident memory of preparing
 * datasets that hold a 5 MB record.
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
      tokenizerAlone(tokenizer, records);
      int cores = Runtime.getRuntime().availableProcessors();
      for (int threads : cores > 1 ? new int[] {1, cores} : new int[] {1}) {
        run("single-turn", chat(records, 1, new Random(1)), records, tokenizer, threads);
        run("1-3 turns", chat(records, 3, new Random(1)), records, tokenizer, threads);
      }
      longRecords(tokenizer, cores);
    }
  }

  /**
   * Memory with 5 MB records: five datasets of 20 short chats and one 5 MB message, prepared one
   * after another (max_seq_length 2048), then the same record tokenized whole once, as counting it
   * exactly would. Prints the process's resident memory after each.
   */
  private static void longRecords(Tokenizer tokenizer, int threads) throws Exception {
    Random random = new Random(5);
    StringBuilder text = new StringBuilder();
    while (text.length() < 5_000_000) {
      text.append('w').append(random.nextInt(100_000)).append(' ');
    }
    String record =
        "{\"messages\":[{\"role\":\"user\",\"content\":\""
            + text
            + "\"},{\"role\":\"assistant\",\"content\":\"ok\"}]}\n";
    byte[] data = (chat(20, 1, new Random(2)) + record).getBytes(StandardCharsets.UTF_8);
    TokenLengths lengths = new TokenLengths(tokenizer, ChatTemplate.builtIn("chatml"));
    DatasetPreparer preparer = new DatasetPreparer(lengths, threads);
    System.out.printf("5 MB records: resident %d MiB before%n", residentMiB());
    for (int dataset = 1; dataset <= 5; dataset++) {
      long start = System.nanoTime();
      DatasetPreparer.Outcome outcome =
          preparer.prepare(
              new DatasetPreparer.Input("training_file", "long.jsonl", data),
              null,
              PreparationOptions.defaults(2048, dataset));
      System.out.printf(
          "  dataset %d prepared in %.2f s (%s): resident %d MiB%n",
          dataset,
          (System.nanoTime() - start) / 1e9,
          outcome instanceof DatasetPreparer.Prepared p ? p.warnings() : outcome,
          residentMiB());
    }
    long start = System.nanoTime();
    int tokens =
        lengths.of(
            com.google.gson.JsonParser.parseString(record).getAsJsonObject(), DatasetKind.MESSAGES);
    System.out.printf(
        "  the 5 MB record tokenized whole (%d tokens) in %.2f s: resident %d MiB%n",
        tokens, (System.nanoTime() - start) / 1e9, residentMiB());
  }

  private static long residentMiB() throws java.io.IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
      }
    }
    return -1;
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

  /**
   * The bound: the Hugging Face tokenizer alone encoding the rendered single-turn records (ids
   * only) on one thread.
   */
  private static void tokenizerAlone(Tokenizer tokenizer, int records) {
    ChatTemplate chatml = ChatTemplate.builtIn("chatml");
    java.util.Map<String, String> special =
        java.util.Map.of("bos_token", "<s>", "eos_token", "</s>");
    java.util.List<String> texts = new java.util.ArrayList<>();
    for (String line : chat(records, 1, new Random(1)).split("\n")) {
      com.google.gson.JsonObject record =
          com.google.gson.JsonParser.parseString(line).getAsJsonObject();
      java.util.List<dev.tuneforge.llm.data.ChatMessage> messages = new java.util.ArrayList<>();
      for (com.google.gson.JsonElement m : record.getAsJsonArray("messages")) {
        messages.add(
            new dev.tuneforge.llm.data.ChatMessage(
                m.getAsJsonObject().get("role").getAsString(),
                m.getAsJsonObject().get("content").getAsString()));
      }
      texts.add(chatml.render(messages, false, special));
    }
    double best = 0;
    for (int run = 0; run < 4; run++) {
      long start = System.nanoTime();
      for (String text : texts) {
        tokenizer.encodePlain(text);
      }
      best = Math.max(best, texts.size() / ((System.nanoTime() - start) / 1e9));
    }
    System.out.printf(
        "tokenizer alone (single-turn, rendered), 1 thread: %.0f records/s (best of 4)%n", best);
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
