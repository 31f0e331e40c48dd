package dev.tuneforge.llm.adapter.prefix;

/**
 * PEFT's PrefixTuningConfig: {@code num_virtual_tokens} keys and values before every layer's own.
 * With {@code prefix_projection} they are computed from per-token embeddings by a two-layer MLP
 * ({@code Linear(token_dim, encoder_hidden_size)}, tanh, {@code Linear(encoder_hidden_size, 2 *
 * layers * token_dim)}), trained, and saved as the MLP's output; without it they are trained
 * directly.
 *
 * @param encoderHiddenSize the MLP's width; 0 for the model's hidden size
 */
public record PrefixTuningSettings(
    int numVirtualTokens, boolean prefixProjection, int encoderHiddenSize)
    implements dev.tuneforge.llm.adapter.AdapterSettings {
  @Override
  public String peftType() {
    return "PREFIX_TUNING";
  }

  @Override
  public dev.tuneforge.llm.adapter.Adapter create(
      dev.tuneforge.llm.tokenizer.Tokenizer tokenizer, long seed) {
    return PrefixTuningAdapter.create(this, seed);
  }

  public PrefixTuningSettings {
    if (numVirtualTokens < 1) {
      throw new IllegalArgumentException(
          "num_virtual_tokens must be at least 1 but was " + numVirtualTokens);
    }
    if (encoderHiddenSize < 0) {
      throw new IllegalArgumentException(
          "encoder_hidden_size must be at least 1 but was " + encoderHiddenSize);
    }
    if (encoderHiddenSize > 0 && !prefixProjection) {
      throw new IllegalArgumentException(
          "encoder_hidden_size is the prefix_projection MLP's width; set prefix_projection true"
              + " or leave it unset");
    }
  }
}
