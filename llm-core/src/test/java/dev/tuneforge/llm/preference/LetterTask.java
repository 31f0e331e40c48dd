package dev.tuneforge.llm.preference;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import dev.tuneforge.llm.rl.RewardFunction;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A synthetic preference task made in code. Prompts are "XYZ=" (3 of the 16 letters A-P); a
 * response is 4 letters and EOS. The judge prefers letters from the first half of the alphabet: its
 * score is the share of A-H letters, {@code count(A..H) / max(4, tokens before EOS)}, so a longer
 * answer cannot game it. The SFT starting policy answers with 4 uniformly random letters (judge
 * mean 0.5); preference pairs compare two such answers with different A-H counts.
 */
public final class LetterTask {
  public static final int BOS = TinyLlama.specialId("<s>");
  public static final int EOS = TinyLlama.specialId("</s>");
  public static final TinyLlama.Size SIZE = new TinyLlama.Size(64, 2, 4, 2, 192);

  private LetterTask() {}

  public static int[] prompt(Random random) {
    return new int[] {BOS, letter(random), letter(random), letter(random), '='};
  }

  /** 4 uniformly random letters A-P and EOS. */
  public static int[] answer(Random random) {
    return new int[] {letter(random), letter(random), letter(random), letter(random), EOS};
  }

  private static int letter(Random random) {
    return 'A' + random.nextInt(16);
  }

  public static List<int[]> prompts(int count, long seed) {
    Random random = new Random(seed);
    List<int[]> prompts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      prompts.add(prompt(random));
    }
    return prompts;
  }

  /** The rule-based judge, in [0, 1]. */
  public static double judge(int[] response) {
    int preferred = 0;
    int length = 0;
    for (int token : response) {
      if (token == EOS) {
        break;
      }
      length++;
      preferred += token >= 'A' && token <= 'H' ? 1 : 0;
    }
    return (double) preferred / Math.max(4, length);
  }

  public static final RewardFunction JUDGE = RewardFunction.rule((p, r) -> judge(r));

  /** Pairs of random answers whose judge scores differ; the higher one is chosen. */
  public static List<PreferencePair> pairs(int count, long seed) {
    Random random = new Random(seed);
    List<PreferencePair> pairs = new ArrayList<>();
    while (pairs.size() < count) {
      int[] prompt = prompt(random);
      int[] a = answer(random);
      int[] b = answer(random);
      double difference = judge(a) - judge(b);
      if (difference != 0) {
        pairs.add(new PreferencePair(prompt, difference > 0 ? a : b, difference > 0 ? b : a));
      }
    }
    return pairs;
  }

  /** Mean judge score of one sampled response (temperature 1) per prompt. */
  public static double sampledJudgeMean(LlamaModel model, List<int[]> prompts, long seed) {
    GenerationConfig config =
        GenerationConfig.greedy(8, java.util.Set.of(EOS)).withSampling(1.0, 0, 1.0, seed);
    List<Generated> outputs =
        dev.tuneforge.llm.engine.Autograd.withGrad(
            false,
            () ->
                new Generator(model, null).generate(prompts, config, Generator.TokenListener.NONE));
    return outputs.stream().mapToDouble(g -> judge(g.tokens())).average().orElseThrow();
  }

  /**
   * Clear-cut pairs, as curated preference data tends to be: each letter of the chosen answer is
   * from A-H with probability {@code bias}, of the rejected one with {@code 1 - bias}; pairs whose
   * judge scores tie or invert are resampled.
   */
  public static List<PreferencePair> clearPairs(int count, double bias, long seed) {
    Random random = new Random(seed);
    List<PreferencePair> pairs = new ArrayList<>();
    while (pairs.size() < count) {
      int[] prompt = prompt(random);
      int[] chosen = biasedAnswer(random, bias);
      int[] rejected = biasedAnswer(random, 1 - bias);
      if (judge(chosen) > judge(rejected)) {
        pairs.add(new PreferencePair(prompt, chosen, rejected));
      }
    }
    return pairs;
  }

  private static int[] biasedAnswer(Random random, double firstHalf) {
    int[] answer = new int[5];
    for (int i = 0; i < 4; i++) {
      answer[i] = (random.nextDouble() < firstHalf ? 'A' : 'I') + random.nextInt(8);
    }
    answer[4] = EOS;
    return answer;
  }

  /**
   * Writes the tiny base to {@code dir/base} and the SFT starting policy (answers 4 random letters
   * and EOS) to {@code dir/sft}; returns the latter.
   */
  public static Path writeSftPolicy(Path dir) {
    Path base = dir.resolve("base");
    Path sft = dir.resolve("sft");
    TinyLlama.write(base, 11, SIZE);
    Random random = new Random(5);
    List<TokenizedExample> examples = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      examples.add(TokenizedExample.completion(prompt(random), answer(random)));
    }
    try (LlamaModel model = LlamaModel.load(base, Compute.CPU_FLOAT32, Projections.DENSE)) {
      new SftRecipe(model, model.weights(), SftSettings.forSteps(150, 32, 3e-3, 5))
          .train(examples, List.of(), StepListener.NONE);
      model.save(sft);
    }
    return sft;
  }
}
