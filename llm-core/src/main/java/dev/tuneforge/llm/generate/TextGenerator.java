package dev.tuneforge.llm.generate;

import dev.tuneforge.llm.data.ChatMessage;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.List;
import java.util.Set;

/**
 * A model that answers text prompts: one completion per prompt, the same for the same {@code seed}.
 * What AI-feedback work asks a model through (an LLM judge, Self-Instruct, Constitutional AI), so a
 * local model, a served one or a deterministic stand-in in tests plug in alike.
 */
@FunctionalInterface
public interface TextGenerator {
  List<String> complete(List<String> prompts, long seed);

  /**
   * A model run here: each prompt encoded by {@code tokenizer} (BOS and all, as its config asks),
   * answered in at most {@code maxNewTokens} tokens until EOS, greedily when {@code temperature} is
   * 0, else sampled (nucleus {@code topP}), decoded without special tokens.
   */
  static TextGenerator local(
      LlamaModel model, Tokenizer tokenizer, int maxNewTokens, double temperature, double topP) {
    return local(model, tokenizer, null, maxNewTokens, temperature, topP);
  }

  /**
   * As {@link #local(LlamaModel, Tokenizer, int, double, double)}, each prompt put to a chat model
   * as one user turn of {@code chat} with the generation prompt, as {@code
   * apply_chat_template(add_generation_prompt=True)} does; null {@code chat}: the prompt as it is.
   */
  static TextGenerator local(
      LlamaModel model,
      Tokenizer tokenizer,
      ChatTemplate chat,
      int maxNewTokens,
      double temperature,
      double topP) {
    java.util.function.Function<String, int[]> encode =
        chat == null
            ? tokenizer::encode
            : prompt ->
                tokenizer.encodePlain(
                    chat.render(
                        List.of(ChatMessage.user(prompt)),
                        true,
                        java.util.Map.of(
                            "bos_token", tokenizer.special().bos(),
                            "eos_token", tokenizer.special().eos())));
    GenerationConfig greedy =
        GenerationConfig.greedy(maxNewTokens, Set.copyOf(model.config().eosTokenIds()));
    return (prompts, seed) -> {
      GenerationConfig config =
          temperature > 0 ? greedy.withSampling(temperature, 0, topP, seed) : greedy;
      List<int[]> ids = prompts.stream().map(encode).toList();
      List<Generated> replies =
          Autograd.withGrad(
              false,
              () ->
                  new Generator(model, tokenizer)
                      .generate(ids, config, Generator.TokenListener.NONE));
      return replies.stream().map(g -> tokenizer.decode(g.tokens(), true)).toList();
    };
  }
}
