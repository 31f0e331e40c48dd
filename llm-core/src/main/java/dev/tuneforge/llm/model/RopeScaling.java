package dev.tuneforge.llm.model;

/**
 * {@code rope_scaling} of a Hugging Face config.
 *
 * <ul>
 *   <li>{@code linear}: positions are divided by {@code factor} (every frequency scaled alike).
 *   <li>{@code llama3}: wavelengths longer than {@code original_max_position_embeddings /
 *       low_freq_factor} are divided by {@code factor}, shorter than {@code original /
 *       high_freq_factor} are kept, and those between are interpolated smoothly.
 * </ul>
 */
public record RopeScaling(
    String type,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalMaxPositionEmbeddings) {

  public RopeScaling {
    if (!type.equals("linear") && !type.equals("llama3")) {
      throw new IllegalArgumentException(
          "rope_scaling.rope_type \"" + type + "\" is not supported; supported: linear, llama3");
    }
    if (!(factor >= 1.0)) {
      throw new IllegalArgumentException("rope_scaling.factor must be >= 1 but was " + factor);
    }
    if (type.equals("llama3")) {
      if (!(highFreqFactor > lowFreqFactor) || lowFreqFactor <= 0) {
        throw new IllegalArgumentException(
            "rope_scaling.high_freq_factor ("
                + highFreqFactor
                + ") must be greater than low_freq_factor ("
                + lowFreqFactor
                + ") > 0");
      }
      if (originalMaxPositionEmbeddings <= 0) {
        throw new IllegalArgumentException(
            "rope_scaling.original_max_position_embeddings must be > 0 but was "
                + originalMaxPositionEmbeddings);
      }
    }
  }

  /** Applies the scaling to the inverse frequencies {@code 1 / theta^(2i/headDim)}. */
  public double[] scale(double[] inverseFrequencies) {
    double[] scaled = new double[inverseFrequencies.length];
    for (int i = 0; i < scaled.length; i++) {
      scaled[i] =
          type.equals("linear") ? inverseFrequencies[i] / factor : llama3(inverseFrequencies[i]);
    }
    return scaled;
  }

  private double llama3(double inverseFrequency) {
    double lowFreqWavelength = originalMaxPositionEmbeddings / lowFreqFactor;
    double highFreqWavelength = originalMaxPositionEmbeddings / highFreqFactor;
    double wavelength = 2 * Math.PI / inverseFrequency;
    if (wavelength < highFreqWavelength) {
      return inverseFrequency;
    }
    if (wavelength > lowFreqWavelength) {
      return inverseFrequency / factor;
    }
    double smooth =
        (originalMaxPositionEmbeddings / wavelength - lowFreqFactor)
            / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * inverseFrequency / factor + smooth * inverseFrequency;
  }
}
