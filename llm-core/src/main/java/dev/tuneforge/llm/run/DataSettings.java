package dev.tuneforge.llm.run;

/**
 * How examples become sequences, with TRL's names.
 *
 * @param maxSeqLength the longest sequence in tokens; longer examples are truncated
 * @param maxPromptLength DPO, reward models, PPO, Best-of-N: the prompt's share of it; -1: half
 * @param packing SFT: concatenate examples into rows of max_seq_length
 * @param completionOnlyLoss SFT: train on the completion of prompt/completion records only
 * @param assistantOnlyLoss SFT: train on assistant turns of conversations only
 * @param groupByLength batch examples of similar length together
 */
public record DataSettings(
    int maxSeqLength,
    int maxPromptLength,
    boolean packing,
    boolean completionOnlyLoss,
    boolean assistantOnlyLoss,
    boolean groupByLength) {
  public DataSettings {
    if (maxSeqLength < 2) {
      throw new IllegalArgumentException("max_seq_length must be >= 2 but was " + maxSeqLength);
    }
    if (maxPromptLength != -1 && (maxPromptLength < 1 || maxPromptLength >= maxSeqLength)) {
      throw new IllegalArgumentException(
          "max_prompt_length "
              + maxPromptLength
              + " must be in [1, max_seq_length "
              + maxSeqLength
              + ")");
    }
  }

  /** The longest prompt of a preference or prompt-only record, in tokens. */
  public int promptLimit() {
    return maxPromptLength > 0 ? maxPromptLength : Math.max(1, maxSeqLength / 2);
  }
}
