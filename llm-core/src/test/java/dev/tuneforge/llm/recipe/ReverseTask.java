package dev.tuneforge.llm.recipe;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.LlamaModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A synthetic instruction task: "ABC=" must be answered "CBA" then EOS. Letters are byte tokens of
 * the tiny tokenizer (id == byte, no merges for capitals). Train and held-out words are disjoint,
 * so exact match on held-out prompts measures a learned skill, not memory.
 */
final class ReverseTask {
  static final int BOS = TinyLlama.specialId("<s>");
  static final int EOS = TinyLlama.specialId("</s>");
  final List<String> train;
  final List<String> heldOut;

  ReverseTask(int trainWords, int heldOutWords, int length, long seed) {
    if (trainWords + heldOutWords > Math.pow(16, length) / 2) {
      throw new IllegalArgumentException("too many words for length " + length);
    }
    Random random = new Random(seed);
    Set<String> words = new LinkedHashSet<>();
    while (words.size() < trainWords + heldOutWords) {
      StringBuilder word = new StringBuilder();
      for (int i = 0; i < length; i++) {
        word.append((char) ('A' + random.nextInt(16)));
      }
      words.add(word.toString());
    }
    List<String> all = new ArrayList<>(words);
    this.train = all.subList(0, trainWords);
    this.heldOut = all.subList(trainWords, all.size());
  }

  static int[] prompt(String word) {
    int[] ids = new int[word.length() + 2];
    ids[0] = BOS;
    for (int i = 0; i < word.length(); i++) {
      ids[i + 1] = word.charAt(i);
    }
    ids[ids.length - 1] = '=';
    return ids;
  }

  static int[] answer(String word) {
    int[] ids = new int[word.length() + 1];
    for (int i = 0; i < word.length(); i++) {
      ids[i] = word.charAt(word.length() - 1 - i);
    }
    ids[ids.length - 1] = EOS;
    return ids;
  }

  static List<TokenizedExample> examples(List<String> words) {
    return words.stream().map(w -> TokenizedExample.completion(prompt(w), answer(w))).toList();
  }

  /** Fraction of {@code words} whose greedy answer is exactly the reversed word and EOS. */
  static double exactMatch(LlamaModel model, List<String> words) {
    Generator generator = new Generator(model, null);
    List<int[]> prompts = words.stream().map(ReverseTask::prompt).toList();
    int length = words.get(0).length() + 1;
    List<Generated> outputs =
        generator.generate(
            prompts, GenerationConfig.greedy(length, Set.of(EOS)), Generator.TokenListener.NONE);
    int correct = 0;
    for (int i = 0; i < words.size(); i++) {
      if (Arrays.equals(answer(words.get(i)), outputs.get(i).tokens())) {
        correct++;
      }
    }
    return (double) correct / words.size();
  }
}
