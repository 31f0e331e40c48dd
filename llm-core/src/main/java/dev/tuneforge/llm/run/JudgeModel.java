package dev.tuneforge.llm.run;

import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.generate.TextGenerator;
import dev.tuneforge.llm.judge.Judge;
import dev.tuneforge.llm.judge.LlmJudge;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.tokenizer.Tokenizer;

/**
 * The judge model of an online DPO run (an LLM as the judge), loaded beside the policy on the job's
 * device and asked greedily: its reply is a verdict, at most {@link #MAX_NEW_TOKENS} tokens.
 */
final class JudgeModel implements AutoCloseable {
  /** Enough for "0", "1" or "Answer 1." — a longer reply is not read further. */
  static final int MAX_NEW_TOKENS = 8;

  private final LlamaModel model;
  private final Tokenizer tokenizer;
  private final ChatTemplate chat;
  private final String template;

  private JudgeModel(LlamaModel model, Tokenizer tokenizer, ChatTemplate chat, String template) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.chat = chat;
    this.template = template;
  }

  /** The judge model of {@code judging}; null when a reward model judges. */
  static JudgeModel load(MethodSettings.Judging judging, TrainingJob job) {
    if (!(judging instanceof MethodSettings.Judging.ByModel byModel)) {
      return null;
    }
    Tokenizer tokenizer = Tokenizer.load(byModel.model());
    try {
      ChatTemplate chat =
          ChatTemplate.fromModel(byModel.model(), tokenizer.config(), "default").orElse(null);
      LlamaModel model = LlamaModel.load(byModel.model(), job.compute(), Projections.DENSE);
      return new JudgeModel(
          model,
          tokenizer,
          chat,
          byModel.template() == null ? LlmJudge.DEFAULT_TEMPLATE : byModel.template());
    } catch (RuntimeException e) {
      tokenizer.close();
      throw e;
    }
  }

  /** The judge, reading the policy's token ids as text with {@code policyTokenizer}. */
  Judge judge(Tokenizer policyTokenizer) {
    return new LlmJudge(
        policyTokenizer,
        TextGenerator.local(model, tokenizer, chat, MAX_NEW_TOKENS, 0, 1),
        template,
        true);
  }

  @Override
  public void close() {
    try (tokenizer) {
      model.close();
    }
  }
}
