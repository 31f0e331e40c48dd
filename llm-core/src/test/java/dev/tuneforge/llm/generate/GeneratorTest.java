package dev.tuneforge.llm.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeneratorTest {
  @TempDir static Path dir;
  static LlamaModel model;
  static Tokenizer tokenizer;
  static Generator generator;

  @BeforeAll
  static void load() {
    TinyLlama.write(dir, 11, TinyLlama.Size.DEFAULT);
    model = LlamaModel.load(dir, DataType.FLOAT32);
    tokenizer = Tokenizer.load(dir);
    generator = new Generator(model, tokenizer);
  }

  @AfterAll
  static void close() {
    model.close();
    tokenizer.close();
  }

  static List<int[]> prompts() {
    return List.of(
        tokenizer.encode("Once upon a time"),
        tokenizer.encode("hi"),
        tokenizer.encode("the end of the story is"));
  }

  @Test
  void cachedGreedyGenerationEqualsUncached() {
    GenerationConfig greedy = GenerationConfig.greedy(24, Set.of());
    List<Generated> cached = generator.generate(prompts(), greedy, Generator.TokenListener.NONE);
    List<Generated> uncached =
        generator.generate(prompts(), greedy.withCache(false), Generator.TokenListener.NONE);
    for (int i = 0; i < cached.size(); i++) {
      assertEquals(24, cached.get(i).tokens().length);
      assertArrayEquals(uncached.get(i).tokens(), cached.get(i).tokens(), "row " + i);
    }
  }

  @Test
  void aPaddedBatchGeneratesWhatEachPromptGeneratesAlone() {
    GenerationConfig greedy = GenerationConfig.greedy(16, Set.of());
    List<Generated> batched = generator.generate(prompts(), greedy, Generator.TokenListener.NONE);
    for (int i = 0; i < prompts().size(); i++) {
      Generated alone =
          generator
              .generate(List.of(prompts().get(i)), greedy, Generator.TokenListener.NONE)
              .get(0);
      assertArrayEquals(alone.tokens(), batched.get(i).tokens(), "row " + i);
    }
  }

  @Test
  void seededSamplingIsReproducibleAndTheSeedMatters() {
    GenerationConfig sample = GenerationConfig.greedy(20, Set.of()).withSampling(1.0, 50, 0.95, 42);
    int[] first =
        generator.generate(prompts(), sample, Generator.TokenListener.NONE).get(0).tokens();
    int[] again =
        generator.generate(prompts(), sample, Generator.TokenListener.NONE).get(0).tokens();
    int[] other =
        generator
            .generate(
                prompts(), sample.withSampling(1.0, 50, 0.95, 43), Generator.TokenListener.NONE)
            .get(0)
            .tokens();
    assertArrayEquals(first, again);
    assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(other));
  }

  @Test
  void stopTokenEndsTheRowAndStreamingSeesEveryToken() {
    int[] free =
        generator
            .generate(
                List.of(prompts().get(0)),
                GenerationConfig.greedy(12, Set.of()),
                Generator.TokenListener.NONE)
            .get(0)
            .tokens();
    int stop = free[5];
    int firstStop = 0;
    while (free[firstStop] != stop) {
      firstStop++;
    }
    List<Integer> streamed = new ArrayList<>();
    Generated stopped =
        generator
            .generate(
                List.of(prompts().get(0)),
                GenerationConfig.greedy(12, Set.of(stop)),
                (row, token) -> streamed.add(token))
            .get(0);
    assertEquals("stop", stopped.finishReason());
    assertArrayEquals(java.util.Arrays.copyOf(free, firstStop + 1), stopped.tokens());
    assertEquals(stopped.tokens().length, streamed.size());
  }

  @Test
  void stopStringCutsTheTextBeforeIt() {
    Generated free =
        generator
            .generate(
                List.of(prompts().get(1)),
                GenerationConfig.greedy(30, Set.of()),
                Generator.TokenListener.NONE)
            .get(0);
    String text = free.text();
    assertTrue(text.length() > 6, "need some text to cut: " + text);
    String stop = text.substring(4, 6);
    Generated cut =
        generator
            .generate(
                List.of(prompts().get(1)),
                GenerationConfig.greedy(30, Set.of()).withStopStrings(List.of(stop)),
                Generator.TokenListener.NONE)
            .get(0);
    assertEquals("stop", cut.finishReason());
    assertEquals(text.substring(0, text.indexOf(stop)), cut.text());
    assertEquals("length", free.finishReason());
  }

  /**
   * Each generated token's log-probability is the one scoring the whole sequence gives it (an
   * independent forward without the cache), and under greedy decoding the chosen token is the most
   * likely of its top list.
   */
  @Test
  void logprobsOfGeneratedTokensEqualTheScoreOfTheSequence() {
    int[] prompt = tokenizer.encode("Hello there");
    Generated g =
        dev.tuneforge.llm.engine.Autograd.withGrad(
            false,
            () ->
                new Generator(model, tokenizer)
                    .generate(
                        java.util.List.of(prompt),
                        GenerationConfig.greedy(6, java.util.Set.of()),
                        Generator.TokenListener.NONE,
                        3)
                    .get(0));
    org.junit.jupiter.api.Assertions.assertEquals(g.tokens().length, g.logprobs().size());
    int[] sequence = java.util.Arrays.copyOf(prompt, prompt.length + g.tokens().length);
    System.arraycopy(g.tokens(), 0, sequence, prompt.length, g.tokens().length);
    double[] scored =
        dev.tuneforge.llm.metrics.TokenScorer.score(model, java.util.List.of(sequence))
            .get(0)
            .logprobs();
    for (int i = 0; i < g.tokens().length; i++) {
      Generated.TokenLogprob lp = g.logprobs().get(i);
      org.junit.jupiter.api.Assertions.assertEquals(scored[prompt.length + i], lp.logprob(), 1e-4);
      org.junit.jupiter.api.Assertions.assertEquals(g.tokens()[i], lp.topTokens()[0]);
      org.junit.jupiter.api.Assertions.assertEquals(lp.logprob(), lp.topLogprobs()[0], 1e-9);
      org.junit.jupiter.api.Assertions.assertTrue(
          lp.topLogprobs()[1] <= lp.topLogprobs()[0] && lp.topLogprobs()[2] <= lp.topLogprobs()[1]);
    }
  }
}
