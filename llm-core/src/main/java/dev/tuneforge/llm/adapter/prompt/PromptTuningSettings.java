package dev.tuneforge.llm.adapter.prompt;

import java.util.List;

/**
 * PEFT's PromptTuningConfig: {@code num_virtual_tokens} embeddings before every sequence,
 * initialised RANDOM (standard normal, as torch.nn.Embedding starts), TEXT (the embeddings of
 * {@code prompt_tuning_init_text}'s tokens, repeated or cut to the count) or SAMPLE_VOCAB (the
 * embeddings of random vocabulary tokens).
 *
 * @param tokenizerNameOrPath recorded in adapter_config.json (PEFT requires it for TEXT)
 */
public record PromptTuningSettings(
    int numVirtualTokens, String init, String initText, String tokenizerNameOrPath)
    implements dev.tuneforge.llm.adapter.AdapterSettings {
  @Override
  public String peftType() {
    return "PROMPT_TUNING";
  }

  /** TEXT's initialisation is {@code tokenizer}'s encoding of the init text. */
  @Override
  public dev.tuneforge.llm.adapter.Adapter create(
      dev.tuneforge.llm.tokenizer.Tokenizer tokenizer, long seed) {
    return PromptTuningAdapter.create(
        this, init().equals("TEXT") ? tokenizer.encode(initText()) : null, seed);
  }

  public static final List<String> INITS = List.of("RANDOM", "TEXT", "SAMPLE_VOCAB");

  /** PEFT's and TuneForge's default count when a job sets none. */
  public static final int DEFAULT_VIRTUAL_TOKENS = 20;

  public PromptTuningSettings {
    if (numVirtualTokens < 1) {
      throw new IllegalArgumentException(
          "num_virtual_tokens must be at least 1 but was " + numVirtualTokens);
    }
    if (!INITS.contains(init)) {
      throw new IllegalArgumentException(
          "prompt_tuning_init \"" + init + "\" is not one of " + String.join(", ", INITS));
    }
    if (init.equals("TEXT") && (initText == null || initText.isBlank())) {
      throw new IllegalArgumentException(
          "prompt_tuning_init TEXT needs a non-empty prompt_tuning_init_text");
    }
    if (!init.equals("TEXT") && initText != null) {
      throw new IllegalArgumentException(
          "prompt_tuning_init_text is only used with prompt_tuning_init TEXT, not " + init);
    }
  }

  /**
   * The token ids the TEXT embeddings start from: the text's ids repeated until there are enough,
   * then cut to {@code numVirtualTokens} (PEFT's PromptEmbedding).
   */
  public int[] initIds(int[] textIds) {
    if (textIds.length == 0) {
      throw new IllegalArgumentException(
          "prompt_tuning_init_text \"" + initText + "\" encodes to no tokens");
    }
    int[] ids = new int[numVirtualTokens];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = textIds[i % textIds.length];
    }
    return ids;
  }
}
