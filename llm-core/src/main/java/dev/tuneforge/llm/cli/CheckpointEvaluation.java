package dev.tuneforge.llm.cli;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.PeftLora;
import dev.tuneforge.llm.data.ChatMessage;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.metrics.Bleu;
import dev.tuneforge.llm.metrics.Rouge;
import dev.tuneforge.llm.metrics.TextMatch;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores a trained checkpoint and its base model on the same test records (the canonical JSONL
 * data-service writes): perplexity over the trained tokens, and for prompt/completion and chat
 * records greedy generations compared with the reference by exact match, ROUGE-1/2/L/Lsum (mean F)
 * and corpus BLEU. The models are loaded one after the other, so only one is in memory.
 */
public final class CheckpointEvaluation {
  /** One test record's prompt, reference and both models' answers. */
  public record Sample(String prompt, String reference, String base, String tuned) {}

  /**
   * @param metrics name to {tuned, base}
   * @param generation the settings used, recorded with the results
   */
  public record Result(
      Map<String, double[]> metrics, List<Sample> samples, Map<String, Object> generation) {}

  private record Pair(int[] prompt, String promptText, String reference, int referenceTokens) {}

  private CheckpointEvaluation() {}

  /**
   * @param adapter whether {@code checkpoint} is a PEFT adapter (else a full HF model directory)
   * @param templateName a built-in template, or null for the base model's own
   */
  public static Result run(
      Path baseDir,
      Path checkpoint,
      boolean adapter,
      List<String> lines,
      String templateName,
      int maxSamples) {
    try (Tokenizer tokenizer = Tokenizer.load(baseDir)) {
      ChatTemplate template =
          templateName != null
              ? ChatTemplate.builtIn(templateName)
              : ChatTemplate.fromModel(baseDir, tokenizer.config(), "default").orElse(null);
      List<String> used = lines.subList(0, Math.min(lines.size(), maxSamples));
      SftDataset.Result tokenized =
          SftDataset.parse(used, tokenizer, new SftDataset.Options(1024, true, false, template));
      List<Pair> pairs = pairs(used, tokenizer, template);
      int maxNew = 16;
      for (Pair pair : pairs) {
        maxNew = Math.max(maxNew, Math.min(256, pair.referenceTokens() + 16));
      }
      GenerationConfig generation = GenerationConfig.greedy(maxNew, new HashSet<>(eosIds(baseDir)));
      double[] base;
      List<String> baseAnswers;
      try (LlamaModel model =
          LlamaModel.load(baseDir, Compute.CPU_FLOAT32, LlamaModel.Projections.DENSE)) {
        base = new double[] {perplexity(model, tokenized)};
        baseAnswers = answers(model, tokenizer, pairs, generation);
      }
      double[] tuned;
      List<String> tunedAnswers;
      try (LlamaModel model = load(baseDir, checkpoint, adapter)) {
        tuned = new double[] {perplexity(model, tokenized)};
        tunedAnswers = answers(model, tokenizer, pairs, generation);
      }
      Map<String, double[]> metrics = new LinkedHashMap<>();
      metrics.put("perplexity", new double[] {tuned[0], base[0]});
      List<Sample> samples = new ArrayList<>();
      if (!pairs.isEmpty()) {
        List<String> references = pairs.stream().map(Pair::reference).toList();
        metrics.put(
            "exact_match",
            new double[] {
              TextMatch.exactMatch(tunedAnswers, references),
              TextMatch.exactMatch(baseAnswers, references)
            });
        for (String rouge : List.of("rouge1", "rouge2", "rougeL", "rougeLsum")) {
          metrics.put(
              rouge,
              new double[] {
                meanRouge(rouge, references, tunedAnswers),
                meanRouge(rouge, references, baseAnswers)
              });
        }
        metrics.put(
            "bleu",
            new double[] {
              Bleu.corpus(tunedAnswers, List.of(references)).score(),
              Bleu.corpus(baseAnswers, List.of(references)).score()
            });
        for (int i = 0; i < pairs.size(); i++) {
          samples.add(
              new Sample(
                  pairs.get(i).promptText(),
                  references.get(i),
                  baseAnswers.get(i),
                  tunedAnswers.get(i)));
        }
      }
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("do_sample", false);
      settings.put("max_new_tokens", maxNew);
      settings.put("stop_token_ids", eosIds(baseDir));
      settings.put("samples", used.size());
      return new Result(metrics, samples, settings);
    }
  }

  private static LlamaModel load(Path baseDir, Path checkpoint, boolean adapter) {
    if (!adapter) {
      return LlamaModel.load(checkpoint, Compute.CPU_FLOAT32, LlamaModel.Projections.DENSE);
    }
    try (NDManager staging = Torch.engine().newBaseManager()) {
      LoraAdapter lora = PeftLora.load(checkpoint, staging);
      return LlamaModel.load(
          baseDir, Compute.CPU_FLOAT32, lora.projections(LlamaModel.Projections.DENSE));
    }
  }

  private static List<Integer> eosIds(Path baseDir) {
    return dev.tuneforge.llm.model.LlamaConfig.load(baseDir).eosTokenIds();
  }

  private static double perplexity(LlamaModel model, SftDataset.Result tokenized) {
    if (tokenized.examples().isEmpty()) {
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

  /** Prompt/completion and chat records give a prompt and a reference answer; others none. */
  private static List<Pair> pairs(List<String> lines, Tokenizer tokenizer, ChatTemplate template) {
    Map<String, String> special =
        Map.of("bos_token", tokenizer.special().bos(), "eos_token", tokenizer.special().eos());
    List<Pair> pairs = new ArrayList<>();
    for (String line : lines) {
      JsonObject record = JsonParser.parseString(line).getAsJsonObject();
      if (record.has("prompt") && record.has("completion")) {
        String completion = record.get("completion").getAsString();
        pairs.add(
            new Pair(
                tokenizer.encode(record.get("prompt").getAsString()),
                record.get("prompt").getAsString(),
                completion.strip(),
                tokenizer.encodePlain(completion).length));
      } else if (record.has("messages") && template != null) {
        JsonArray messages = record.getAsJsonArray("messages");
        JsonObject last = messages.get(messages.size() - 1).getAsJsonObject();
        if (!last.get("role").getAsString().equals("assistant") || messages.size() < 2) {
          continue;
        }
        List<ChatMessage> context = new ArrayList<>();
        for (int i = 0; i < messages.size() - 1; i++) {
          JsonElement m = messages.get(i);
          context.add(
              new ChatMessage(
                  m.getAsJsonObject().get("role").getAsString(),
                  m.getAsJsonObject().get("content").getAsString()));
        }
        String prompt = template.render(context, true, special);
        String reference = last.get("content").getAsString();
        pairs.add(
            new Pair(
                tokenizer.encodePlain(prompt),
                prompt,
                reference.strip(),
                tokenizer.encodePlain(reference).length));
      }
    }
    return pairs;
  }

  private static double meanRouge(String type, List<String> references, List<String> answers) {
    double sum = 0;
    for (int i = 0; i < references.size(); i++) {
      Rouge.Score score =
          switch (type) {
            case "rouge1" -> Rouge.rougeN(references.get(i), answers.get(i), 1);
            case "rouge2" -> Rouge.rougeN(references.get(i), answers.get(i), 2);
            case "rougeL" -> Rouge.rougeL(references.get(i), answers.get(i));
            default -> Rouge.rougeLsum(references.get(i), answers.get(i));
          };
      sum += score.fmeasure();
    }
    return sum / references.size();
  }
}
