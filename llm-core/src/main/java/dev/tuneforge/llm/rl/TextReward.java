package dev.tuneforge.llm.rl;

import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores (prompt, response) texts, one number each, higher is better: how a reward model with a
 * tokenizer of its own, local or behind reward-service, is asked. The prompt is the rendered text
 * the policy saw (chat-template markers included), the response the text it generated.
 */
@FunctionalInterface
public interface TextReward {
  double[] score(List<String> prompts, List<String> responses);

  /**
   * This reward over a policy's token ids: the prompt decoded with its special tokens (a leading
   * BOS dropped, the scorer's tokenizer adds its own), the response without them.
   */
  default RewardFunction over(Tokenizer policy) {
    int bos = policy.special().bosId();
    return (prompts, responses) -> {
      List<String> promptTexts = new ArrayList<>(prompts.size());
      List<String> responseTexts = new ArrayList<>(responses.size());
      for (int i = 0; i < prompts.size(); i++) {
        int[] prompt = prompts.get(i);
        int from = prompt.length > 0 && prompt[0] == bos ? 1 : 0;
        promptTexts.add(policy.decode(Arrays.copyOfRange(prompt, from, prompt.length), false));
        responseTexts.add(policy.decode(responses.get(i), true));
      }
      return score(promptTexts, responseTexts);
    };
  }

  /**
   * A local reward model with its tokenizer, scoring as reward training did: the prompt encoded as
   * the tokenizer's config asks (BOS and all), then the response and EOS; the reward is read at the
   * last token.
   */
  static TextReward of(RewardModel model, Tokenizer tokenizer, int batchSize) {
    int eos = tokenizer.special().eosId();
    return (prompts, responses) -> {
      List<int[]> promptIds = new ArrayList<>(prompts.size());
      List<int[]> responseIds = new ArrayList<>(responses.size());
      for (int i = 0; i < prompts.size(); i++) {
        String promptText = prompts.get(i);
        int[] prompt = tokenizer.encode(promptText == null ? "" : promptText);
        int[] response = tokenizer.encodePlain(responses.get(i));
        if (eos >= 0) {
          response = Arrays.copyOf(response, response.length + 1);
          response[response.length - 1] = eos;
        }
        if (prompt.length == 0) {
          // No prompt and no BOS: the response's first token stands in as the context.
          prompt = new int[] {response[0]};
          response = Arrays.copyOfRange(response, 1, Math.max(2, response.length));
        }
        promptIds.add(prompt);
        responseIds.add(response);
      }
      return model.score(promptIds, responseIds, batchSize);
    };
  }
}
