package dev.tuneforge.llm.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.PeftLora;
import dev.tuneforge.llm.data.ChatMessage;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.metrics.Bleu;
import dev.tuneforge.llm.metrics.Rouge;
import dev.tuneforge.llm.metrics.TextMatch;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.rl.TextReward;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores a trained checkpoint and its base model on the same test records (the canonical JSONL
 * data-service writes). The models are loaded one after the other, so only one is in memory.
 *
 * <ul>
 *   <li>perplexity over the trained tokens of SFT records, and of preference records' chosen side;
 *   <li>greedy generations for every record with a prompt, compared with the reference (the
 *       completion, the last assistant turn, or the chosen response) by exact match,
 *       ROUGE-1/2/L/Lsum (mean F) and corpus BLEU;
 *   <li>accuracy and macro-F1 when the references are labels (few distinct short values), or when
 *       asked for;
 *   <li>with a reward: the mean reward of each model's answers, and the win rate of the tuned model
 *       over the base (ties count half), judged by that reward.
 * </ul>
 */
public final class CheckpointEvaluation {
  /** One test record's prompt, reference (or null) and both models' answers and rewards. */
  public record Sample(
      String prompt,
      String reference,
      String base,
      String tuned,
      Double baseReward,
      Double tunedReward) {}

  /**
   * @param metrics name to {tuned, base}
   * @param generation the settings used, recorded with the results
   */
  public record Result(
      Map<String, double[]> metrics, List<Sample> samples, Map<String, Object> generation) {}

  /**
   * @param templateName a built-in template, or null for the base model's own
   * @param maxNewTokens 0: the longest reference plus 16, at most 256
   * @param reward judges answers for the reward and win-rate metrics, or null
   * @param requested metrics asked for by name (accuracy and f1 force the label metrics); empty:
   *     all that apply
   * @param rougeStemmer ROUGE over Porter stems, as rouge-score's {@code use_stemmer=True}
   */
  public record Options(
      String templateName,
      int maxSamples,
      int maxNewTokens,
      TextReward reward,
      java.util.Set<String> requested,
      boolean rougeStemmer) {
    public static Options defaults(String templateName, int maxSamples) {
      return new Options(templateName, maxSamples, 0, null, java.util.Set.of(), false);
    }
  }

  private record Pair(int[] prompt, String promptText, String reference, int referenceTokens) {}

  private CheckpointEvaluation() {}

  /** As {@link #run(Path, Path, boolean, List, Options)} with the default options. */
  public static Result run(
      Path baseDir,
      Path checkpoint,
      boolean adapter,
      List<String> lines,
      String templateName,
      int maxSamples) {
    return run(baseDir, checkpoint, adapter, lines, Options.defaults(templateName, maxSamples));
  }

  /**
   * @param adapter whether {@code checkpoint} is a PEFT adapter (else a full HF model directory)
   */
  public static Result run(
      Path baseDir, Path checkpoint, boolean adapter, List<String> lines, Options options) {
    try (Tokenizer tokenizer = Tokenizer.load(baseDir)) {
      ChatTemplate template =
          options.templateName() != null
              ? ChatTemplate.builtIn(options.templateName())
              : ChatTemplate.fromModel(baseDir, tokenizer.config(), "default").orElse(null);
      List<String> used = lines.subList(0, Math.min(lines.size(), options.maxSamples()));
      List<String> sftLines = sftLines(used);
      SftDataset.Result tokenized =
          sftLines.isEmpty()
              ? null
              : SftDataset.parse(
                  sftLines, tokenizer, new SftDataset.Options(1024, true, false, template));
      List<Pair> pairs = pairs(used, tokenizer, template);
      int maxNew = options.maxNewTokens();
      if (maxNew <= 0) {
        maxNew = 16;
        for (Pair pair : pairs) {
          maxNew = Math.max(maxNew, Math.min(256, pair.referenceTokens() + 16));
        }
      }
      GenerationConfig generation = GenerationConfig.greedy(maxNew, new HashSet<>(eosIds(baseDir)));
      double basePerplexity;
      List<String> baseAnswers;
      try (LlamaModel model = LlamaModel.loadForInference(baseDir, Compute.CPU_FLOAT32)) {
        basePerplexity = perplexity(model, tokenized);
        baseAnswers = answers(model, tokenizer, pairs, generation);
      }
      double tunedPerplexity;
      List<String> tunedAnswers;
      try (LlamaModel model = load(baseDir, checkpoint, adapter)) {
        tunedPerplexity = perplexity(model, tokenized);
        tunedAnswers = answers(model, tokenizer, pairs, generation);
      }
      Map<String, double[]> metrics = new LinkedHashMap<>();
      if (tokenized != null) {
        metrics.put("perplexity", new double[] {tunedPerplexity, basePerplexity});
      }
      List<Integer> referenced = new ArrayList<>();
      for (int i = 0; i < pairs.size(); i++) {
        if (pairs.get(i).reference() != null) {
          referenced.add(i);
        }
      }
      if (!referenced.isEmpty()) {
        textMetrics(metrics, pairs, referenced, tunedAnswers, baseAnswers, options);
      }
      double[] baseRewards = null;
      double[] tunedRewards = null;
      if (options.reward() != null && !pairs.isEmpty()) {
        List<String> prompts = pairs.stream().map(Pair::promptText).toList();
        baseRewards = options.reward().score(prompts, baseAnswers);
        tunedRewards = options.reward().score(prompts, tunedAnswers);
        double wins = 0;
        for (int i = 0; i < pairs.size(); i++) {
          wins +=
              tunedRewards[i] > baseRewards[i] ? 1 : tunedRewards[i] == baseRewards[i] ? 0.5 : 0;
        }
        double winRate = wins / pairs.size();
        metrics.put(
            "reward",
            new double[] {
              java.util.Arrays.stream(tunedRewards).average().orElse(Double.NaN),
              java.util.Arrays.stream(baseRewards).average().orElse(Double.NaN)
            });
        metrics.put("win_rate", new double[] {winRate, 1 - winRate});
      }
      List<Sample> samples = new ArrayList<>();
      for (int i = 0; i < pairs.size(); i++) {
        samples.add(
            new Sample(
                pairs.get(i).promptText(),
                pairs.get(i).reference(),
                baseAnswers.get(i),
                tunedAnswers.get(i),
                baseRewards == null ? null : baseRewards[i],
                tunedRewards == null ? null : tunedRewards[i]));
      }
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("do_sample", false);
      settings.put("max_new_tokens", maxNew);
      settings.put("stop_token_ids", eosIds(baseDir));
      settings.put("samples", used.size());
      settings.put("rouge_use_stemmer", options.rougeStemmer());
      settings.put("metrics", new ArrayList<>(metrics.keySet()));
      settings.put(
          "metrics_left_out", leftOut(metrics.keySet(), pairs, referenced, template, options));
      return new Result(metrics, samples, settings);
    }
  }

  /** Each metric not computed, with the reason, so a report never drops one silently. */
  private static Map<String, String> leftOut(
      java.util.Set<String> computed,
      List<Pair> pairs,
      List<Integer> referenced,
      ChatTemplate template,
      Options options) {
    Map<String, String> reasons = new LinkedHashMap<>();
    String noReference =
        pairs.isEmpty()
            ? template == null
                ? "no record can be prompted: chat records need a chat template and the model has none"
                : "no record has a prompt to answer"
            : "no record has a reference answer (completion, output, chosen or a final assistant turn)";
    for (String name :
        List.of(
            "perplexity",
            "exact_match",
            "rouge1",
            "rouge2",
            "rougeL",
            "rougeLsum",
            "bleu",
            "sentence_bleu",
            "accuracy",
            "f1",
            "reward",
            "win_rate")) {
      if (computed.contains(name)) {
        continue;
      }
      reasons.put(
          name,
          switch (name) {
            case "perplexity" -> "no record has a completion to score (prompt-only records)";
            case "accuracy", "f1" ->
                referenced.isEmpty()
                    ? noReference
                    : "the references are not labels (few distinct short values); ask for them in"
                        + " eval.metrics";
            case "reward", "win_rate" ->
                options.reward() == null
                    ? "no reward model was given (eval.reward_model)"
                    : "no prompts";
            default -> noReference;
          });
    }
    return reasons;
  }

  /** Exact match, ROUGE and BLEU on the records with a reference; accuracy and F1 for labels. */
  private static void textMetrics(
      Map<String, double[]> metrics,
      List<Pair> pairs,
      List<Integer> referenced,
      List<String> tunedAll,
      List<String> baseAll,
      Options options) {
    java.util.Set<String> requested = options.requested();
    List<String> references = referenced.stream().map(i -> pairs.get(i).reference()).toList();
    List<String> tuned = referenced.stream().map(tunedAll::get).toList();
    List<String> base = referenced.stream().map(baseAll::get).toList();
    metrics.put(
        "exact_match",
        new double[] {
          TextMatch.exactMatch(tuned, references), TextMatch.exactMatch(base, references)
        });
    for (String rouge : List.of("rouge1", "rouge2", "rougeL", "rougeLsum")) {
      metrics.put(
          rouge,
          new double[] {
            meanRouge(rouge, references, tuned, options.rougeStemmer()),
            meanRouge(rouge, references, base, options.rougeStemmer())
          });
    }
    metrics.put(
        "bleu",
        new double[] {
          Bleu.corpus(tuned, List.of(references)).score(),
          Bleu.corpus(base, List.of(references)).score()
        });
    // sacreBLEU's sentence_bleu averaged over samples: an answer under four tokens can score
    metrics.put(
        "sentence_bleu",
        new double[] {meanSentenceBleu(tuned, references), meanSentenceBleu(base, references)});
    if (requested.contains("accuracy") || requested.contains("f1") || areLabels(references)) {
      TextMatch.Classification t = TextMatch.classification(tuned, references);
      TextMatch.Classification b = TextMatch.classification(base, references);
      metrics.put("accuracy", new double[] {t.accuracy(), b.accuracy()});
      metrics.put("f1", new double[] {t.macroF1(), b.macroF1()});
    }
  }

  private static double meanSentenceBleu(List<String> hypotheses, List<String> references) {
    double sum = 0;
    for (int i = 0; i < hypotheses.size(); i++) {
      sum += Bleu.sentence(hypotheses.get(i), List.of(references.get(i))).score();
    }
    return hypotheses.isEmpty() ? Double.NaN : sum / hypotheses.size();
  }

  /**
   * References are labels when they are short (at most three words) and few distinct values repeat
   * (at most 20, and fewer than half the records).
   */
  static boolean areLabels(List<String> references) {
    if (references.size() < 4) {
      return false;
    }
    java.util.Set<String> distinct = new HashSet<>();
    for (String reference : references) {
      String label = reference.strip();
      if (label.isEmpty() || label.split("\\s+").length > 3) {
        return false;
      }
      distinct.add(label);
    }
    return distinct.size() <= 20 && distinct.size() * 2 < references.size();
  }

  /**
   * The records perplexity is measured on, as SFT records: SFT records as they are, preference
   * records as their prompt and chosen response; prompt-only records have none.
   */
  private static List<String> sftLines(List<String> lines) {
    List<String> out = new ArrayList<>();
    for (String line : lines) {
      JsonObject record = JsonParser.parseString(line).getAsJsonObject();
      if (record.has("chosen") && record.has("prompt")) {
        JsonObject sft = new JsonObject();
        if (record.get("prompt").isJsonArray()) {
          JsonArray messages = record.getAsJsonArray("prompt").deepCopy();
          messages.addAll(assistantTurns(record.get("chosen")));
          sft.add("messages", messages);
        } else {
          sft.add("prompt", record.get("prompt"));
          sft.add("completion", record.get("chosen"));
        }
        out.add(sft.toString());
      } else if (!(record.has("prompt") && !record.has("completion"))) {
        out.add(line);
      }
    }
    return out;
  }

  /** A chosen response as assistant turns: the list as given, or one turn of the text. */
  private static JsonArray assistantTurns(JsonElement chosen) {
    if (chosen.isJsonArray()) {
      return chosen.getAsJsonArray().deepCopy();
    }
    JsonObject turn = new JsonObject();
    turn.addProperty("role", "assistant");
    turn.add("content", chosen);
    JsonArray turns = new JsonArray();
    turns.add(turn);
    return turns;
  }

  private static LlamaModel load(Path baseDir, Path checkpoint, boolean adapter) {
    if (!adapter) {
      return LlamaModel.loadForInference(checkpoint, Compute.CPU_FLOAT32);
    }
    return PeftLora.loadOnto(baseDir, checkpoint, Compute.CPU_FLOAT32);
  }

  private static List<Integer> eosIds(Path baseDir) {
    return dev.tuneforge.llm.model.LlamaConfig.load(baseDir).eosTokenIds();
  }

  private static double perplexity(LlamaModel model, SftDataset.Result tokenized) {
    if (tokenized == null || tokenized.examples().isEmpty()) {
      return Double.NaN;
    }
    SftRecipe.Evaluation evaluation =
        new SftRecipe(model, Map.of(), SftSettings.forSteps(1, 8, 1e-4, 0))
            .evaluate(tokenized.examples());
    return Math.exp(evaluation.loss());
  }

  private static List<String> answers(
      LlamaModel model, Tokenizer tokenizer, List<Pair> pairs, GenerationConfig config) {
    if (pairs.isEmpty()) {
      return List.of();
    }
    Generator generator = new Generator(model, tokenizer);
    List<String> answers = new ArrayList<>();
    for (int from = 0; from < pairs.size(); from += 16) {
      List<int[]> prompts =
          pairs.subList(from, Math.min(pairs.size(), from + 16)).stream()
              .map(Pair::prompt)
              .toList();
      dev.tuneforge.llm.engine.Autograd.withGrad(
          false,
          () -> {
            generator
                .generate(prompts, config, Generator.TokenListener.NONE)
                .forEach(g -> answers.add(g.text().strip()));
            return null;
          });
    }
    return answers;
  }

  /**
   * Every record with a prompt gives a prompt to answer: prompt/completion (reference: the
   * completion), chat (the last assistant turn), preference (the chosen response) and prompt-only
   * (no reference).
   */
  private static List<Pair> pairs(List<String> lines, Tokenizer tokenizer, ChatTemplate template) {
    Map<String, String> special =
        Map.of("bos_token", tokenizer.special().bos(), "eos_token", tokenizer.special().eos());
    List<Pair> pairs = new ArrayList<>();
    int number = 0;
    for (String line : lines) {
      number++;
      JsonObject record = JsonParser.parseString(line).getAsJsonObject();
      if (record.has("instruction")) {
        // rendered exactly as training rendered it, the output is the reference
        String prompt = dev.tuneforge.llm.data.SftDataset.alpacaPrompt(record, number);
        String reference = record.has("output") ? record.get("output").getAsString() : null;
        pairs.add(pair(tokenizer, tokenizer.encode(prompt), prompt, reference));
        continue;
      }
      if (record.has("prompt") && record.get("prompt").isJsonPrimitive()) {
        String prompt = record.get("prompt").getAsString();
        String reference =
            record.has("completion")
                ? record.get("completion").getAsString()
                : record.has("chosen") && record.get("chosen").isJsonPrimitive()
                    ? record.get("chosen").getAsString()
                    : null;
        pairs.add(pair(tokenizer, tokenizer.encode(prompt), prompt, reference));
        continue;
      }
      JsonArray messages;
      String reference;
      if (record.has("messages")) {
        messages = record.getAsJsonArray("messages");
        JsonObject last = messages.get(messages.size() - 1).getAsJsonObject();
        if (!last.get("role").getAsString().equals("assistant") || messages.size() < 2) {
          continue;
        }
        JsonElement answer = last.get("content");
        reference =
            answer == null || answer.isJsonNull() ? null : answer.getAsString(); // a tool call
        JsonArray context = new JsonArray();
        for (int i = 0; i < messages.size() - 1; i++) {
          context.add(messages.get(i));
        }
        messages = context;
      } else if (record.has("prompt") && record.get("prompt").isJsonArray()) {
        messages = record.getAsJsonArray("prompt");
        JsonArray chosen = record.has("chosen") ? assistantTurns(record.get("chosen")) : null;
        reference =
            chosen == null || chosen.isEmpty()
                ? null
                : chosen.get(chosen.size() - 1).getAsJsonObject().get("content").getAsString();
      } else {
        continue;
      }
      if (template == null) {
        continue;
      }
      List<ChatMessage> context =
          dev.tuneforge.llm.data.SftDataset.messages(messages, "messages", number);
      String prompt =
          template.render(
              context, dev.tuneforge.llm.data.SftDataset.tools(record, number), true, special);
      pairs.add(pair(tokenizer, tokenizer.encodePlain(prompt), prompt, reference));
    }
    return pairs;
  }

  private static Pair pair(Tokenizer tokenizer, int[] ids, String prompt, String reference) {
    return new Pair(
        ids,
        prompt,
        reference == null ? null : reference.strip(),
        reference == null ? 0 : tokenizer.encodePlain(reference).length);
  }

  private static double meanRouge(
      String type, List<String> references, List<String> answers, boolean stem) {
    double sum = 0;
    for (int i = 0; i < references.size(); i++) {
      Rouge.Score score =
          switch (type) {
            case "rouge1" -> Rouge.rougeN(references.get(i), answers.get(i), 1, stem);
            case "rouge2" -> Rouge.rougeN(references.get(i), answers.get(i), 2, stem);
            case "rougeL" -> Rouge.rougeL(references.get(i), answers.get(i), stem);
            default -> Rouge.rougeLsum(references.get(i), answers.get(i), stem);
          };
      sum += score.fmeasure();
    }
    return sum / references.size();
  }
}
