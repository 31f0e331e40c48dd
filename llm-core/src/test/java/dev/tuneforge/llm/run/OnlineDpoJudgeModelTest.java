package dev.tuneforge.llm.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.ChatMessage;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.generate.TextGenerator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.OnlineDpoTrainer;
import dev.tuneforge.llm.preference.PreferenceLosses;
import dev.tuneforge.llm.recipe.OptimizerSettings;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.TrainingStep;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Online DPO judged by a model (an LLM as the judge) through the run layer. The judge is a tiny
 * chat model fine-tuned here to answer "1" to every judging prompt: its replies parse, inside its
 * chat template, and the swapped ask exposes it as position-biased, so every pair is counted
 * inconsistent and none is trained on.
 */
class OnlineDpoJudgeModelTest {
  private static final String TEMPLATE = "{prompt}|{first}|{second}>";

  @TempDir static Path dir;
  static Path judge;

  @BeforeAll
  static void models() throws Exception {
    TinyLlama.write(dir.resolve("base"), 3, TinyLlama.Size.DEFAULT);
    Random random = new Random(5);
    List<String> chats = new ArrayList<>();
    for (int i = 0; i < 96; i++) {
      String ask = TEMPLATE.replace("{prompt}", word(random, 3) + "=");
      ask = ask.replace("{first}", word(random, 1 + random.nextInt(6)));
      ask = ask.replace("{second}", word(random, 1 + random.nextInt(6)));
      chats.add(
          "{\"messages\":[{\"role\":\"user\",\"content\":\""
              + ask
              + "\"},{\"role\":\"assistant\",\"content\":\"1\"}]}");
    }
    Files.write(dir.resolve("judging.jsonl"), chats);
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      prompts.add("{\"prompt\":\"" + word(random, 2) + "=\"}");
    }
    Files.write(dir.resolve("prompts.jsonl"), prompts);
    Outcome trained =
        Runs.run(
            job(
                "judge",
                "judging.jsonl",
                new Parameterization.Full(),
                new SftSettings(3e-3, 8, 1, 60, 0, 1.0, "constant", 0, 0, 0.0, 10, 0, 7),
                MethodSettings.Sft.DEFAULT),
            null,
            RunHooks.quiet(new PrintWriter(new StringWriter())));
    judge = trained.finalDir();
  }

  private static String word(Random random, int length) {
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < length; i++) {
      word.append((char) ('A' + random.nextInt(7)));
    }
    return word.toString();
  }

  private static TrainingJob job(
      String name,
      String trainFile,
      Parameterization parameterization,
      SftSettings trainer,
      MethodSettings method) {
    return new TrainingJob(
        dir.resolve("base"),
        dir.resolve(trainFile),
        null,
        dir.resolve("out-" + name),
        "cpu",
        7,
        null,
        parameterization,
        trainer,
        OptimizerSettings.DEFAULT,
        new DataSettings(128, -1, false, true, true, false),
        SaveSettings.NONE,
        method);
  }

  /** The judge answers inside its own chat template, as apply_chat_template would put it. */
  @Test
  void theJudgeIsAskedInsideItsChatTemplate() {
    try (Tokenizer tokenizer = Tokenizer.load(judge);
        LlamaModel model = LlamaModel.load(judge, Compute.CPU_FLOAT32, Projections.DENSE)) {
      ChatTemplate chat =
          ChatTemplate.fromModel(judge, tokenizer.config(), "default").orElseThrow();
      String ask = TEMPLATE.replace("{prompt}", "AB=").replace("{first}", "C");
      ask = ask.replace("{second}", "DDEF");
      List<String> inChat =
          TextGenerator.local(model, tokenizer, chat, 4, 0, 1).complete(List.of(ask), 0);
      String rendered =
          chat.render(
              List.of(ChatMessage.user(ask)),
              true,
              Map.of(
                  "bos_token", tokenizer.special().bos(), "eos_token", tokenizer.special().eos()));
      assertTrue(rendered.contains(ask) && rendered.length() > ask.length(), rendered);
      List<String> byHand = greedyReplies(model, tokenizer, rendered);
      assertEquals(byHand, inChat);
      assertEquals("1", inChat.get(0).strip(), "the fine-tuned judge answers 1");
    }
  }

  private static List<String> greedyReplies(
      LlamaModel model, Tokenizer tokenizer, String rendered) {
    var greedy =
        dev.tuneforge.llm.generate.GenerationConfig.greedy(
            4, java.util.Set.copyOf(model.config().eosTokenIds()));
    var replies =
        dev.tuneforge.llm.engine.Autograd.withGrad(
            false,
            () ->
                new dev.tuneforge.llm.generate.Generator(model, tokenizer)
                    .generate(
                        List.of(tokenizer.encodePlain(rendered)),
                        greedy,
                        dev.tuneforge.llm.generate.Generator.TokenListener.NONE));
    return replies.stream().map(g -> tokenizer.decode(g.tokens(), true)).toList();
  }

  /**
   * A LoRA policy judged by the model: every verdict parses ("1"), and every pair flips when the
   * order is swapped, so each step counts them inconsistent, trains on none, and the adapter is
   * still the initial one (lora_B zero, so the merged policy is the base).
   */
  @Test
  void aPositionBiasedJudgeModelLeavesEveryPairUntrained() {
    List<TrainingStep> steps = new ArrayList<>();
    OnlineDpoTrainer.Settings settings =
        new OnlineDpoTrainer.Settings(0.1, PreferenceLosses.DpoLoss.SIGMOID, 4, 1.0, 0);
    TrainingJob job =
        job(
            "online-judged",
            "prompts.jsonl",
            new Parameterization.Adapted(
                Parameterization.BaseWeights.Dense.FLOAT32, LoraSettings.defaults()),
            new SftSettings(1e-3, 4, 1, 3, 0, 1.0, "linear", 0, 0, 0.0, 1, 0, 7),
            new MethodSettings.OnlineDpo(
                settings, new MethodSettings.Judging.ByModel(judge, TEMPLATE)));
    Outcome outcome =
        Runs.run(
            job,
            null,
            new RunHooks(steps::add, d -> {}, () -> false, new PrintWriter(new StringWriter())));
    assertEquals(3, outcome.lastStep());
    for (TrainingStep step : steps) {
      Map<String, Double> f = step.figures();
      assertEquals(0.0, f.get("judge/unparseable"), "every reply is a verdict: " + f);
      assertEquals(1.0, f.get("judge/inconsistent"), "every pair flips when swapped: " + f);
      assertEquals(1.0, f.get("judge/no_verdict"), f.toString());
    }
  }

  @Test
  void aJudgeModelTakesNoEosPenaltyAndAWholeTemplate() {
    OnlineDpoTrainer.Settings penalised =
        new OnlineDpoTrainer.Settings(0.1, PreferenceLosses.DpoLoss.SIGMOID, 4, 1.0, 0.5);
    String eos =
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    new MethodSettings.OnlineDpo(
                        penalised, new MethodSettings.Judging.ByModel(judge, null)))
            .getMessage();
    assertTrue(eos.contains("missing_eos_penalty"), eos);
    String template =
        assertThrows(
                IllegalArgumentException.class,
                () -> new MethodSettings.Judging.ByModel(judge, "{prompt} {first}"))
            .getMessage();
    assertTrue(template.contains("{second}"), template);
  }
}
