package dev.tuneforge.llm.eval;

import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.data.PreferenceDataset;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.PreferencePair;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores a trained reward model on held-out preference records: pairwise accuracy (the share of
 * pairs whose chosen response it rewards above the rejected one) and the mean margin. The baseline
 * is where training started: the base model's backbone with the score head a job of that seed
 * initialises.
 */
public final class RewardModelEvaluation {
  private RewardModelEvaluation() {}

  /**
   * @param checkpoint an HF sequence-classification directory
   * @param templateName a built-in template, or null for the base model's own
   * @param seed the job's seed, which initialised the score head
   */
  public static CheckpointEvaluation.Result run(
      Path baseDir,
      Path checkpoint,
      List<String> lines,
      String templateName,
      int maxSamples,
      long seed) {
    List<PreferencePair> pairs;
    try (Tokenizer tokenizer = Tokenizer.load(checkpoint)) {
      ChatTemplate template =
          templateName != null
              ? ChatTemplate.builtIn(templateName)
              : ChatTemplate.fromModel(baseDir, tokenizer.config(), "default").orElse(null);
      pairs =
          PreferenceDataset.parse(
              lines.subList(0, Math.min(lines.size(), maxSamples)),
              tokenizer,
              new PreferenceDataset.Options(512, 1024, template));
    }
    double[] tuned;
    // a PEFT sequence-classification adapter (prompt or prefix tuning) goes over the base
    try (RewardModel model = RewardModel.open(checkpoint, name -> baseDir, Compute.CPU_FLOAT32)) {
      tuned = pairwise(model, pairs);
    }
    double[] base;
    try (RewardModel model =
        RewardModel.fromCausalLm(
            LlamaModel.load(baseDir, Compute.CPU_FLOAT32, Projections.DENSE), seed)) {
      base = pairwise(model, pairs);
    }
    Map<String, double[]> metrics = new LinkedHashMap<>();
    metrics.put("accuracy", new double[] {tuned[0], base[0]});
    metrics.put("reward_margin", new double[] {tuned[1], base[1]});
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("pairs", pairs.size());
    settings.put("baseline", "base backbone with the seed-" + seed + " score head");
    return new CheckpointEvaluation.Result(metrics, List.of(), settings);
  }

  /** {accuracy, mean margin} of chosen over rejected. */
  private static double[] pairwise(RewardModel model, List<PreferencePair> pairs) {
    List<int[]> prompts = pairs.stream().map(PreferencePair::prompt).toList();
    double[] chosen = model.score(prompts, pairs.stream().map(PreferencePair::chosen).toList(), 16);
    double[] rejected =
        model.score(prompts, pairs.stream().map(PreferencePair::rejected).toList(), 16);
    double correct = 0;
    double margin = 0;
    for (int i = 0; i < chosen.length; i++) {
      correct += chosen[i] > rejected[i] ? 1 : 0;
      margin += chosen[i] - rejected[i];
    }
    return new double[] {correct / chosen.length, margin / chosen.length};
  }
}
