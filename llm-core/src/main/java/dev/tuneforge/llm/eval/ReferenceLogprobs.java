package dev.tuneforge.llm.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.metrics.TokenScorer;
import dev.tuneforge.llm.model.LlamaModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The golden log-probs of a reference model ({@code expected.json}, written by
 * tools/reference/llama_reference.py): token sequences and each token's log-prob under the
 * reference PyTorch implementation (the first of each sequence has none).
 */
public record ReferenceLogprobs(List<int[]> sequences, List<double[]> logprobs) {
  /** The reference of {@code dir}'s expected.json. */
  public static ReferenceLogprobs read(Path dir) {
    JsonObject expected;
    try {
      expected =
          JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve("expected.json"), e);
    }
    List<int[]> sequences = new ArrayList<>();
    for (var sequence : expected.getAsJsonArray("sequences")) {
      JsonArray ids = sequence.getAsJsonArray();
      int[] tokens = new int[ids.size()];
      for (int i = 0; i < tokens.length; i++) {
        tokens[i] = ids.get(i).getAsInt();
      }
      sequences.add(tokens);
    }
    List<double[]> logprobs = new ArrayList<>();
    for (var row : expected.getAsJsonArray("logprobs")) {
      JsonArray values = row.getAsJsonArray();
      double[] lp = new double[values.size()];
      for (int t = 1; t < lp.length; t++) {
        lp[t] = values.get(t).getAsDouble();
      }
      logprobs.add(lp);
    }
    return new ReferenceLogprobs(sequences, logprobs);
  }

  /** The largest absolute difference between {@code model}'s log-probs and the reference's. */
  public double maxError(LlamaModel model) {
    List<TokenScorer.Scored> scored = TokenScorer.score(model, sequences);
    double worst = 0;
    for (int s = 0; s < sequences.size(); s++) {
      double[] ours = scored.get(s).logprobs();
      double[] reference = logprobs.get(s);
      if (ours.length != reference.length) {
        throw new IllegalStateException(
            "sequence "
                + s
                + ": "
                + ours.length
                + " log-probs, the reference has "
                + reference.length);
      }
      for (int t = 1; t < reference.length; t++) {
        worst = Math.max(worst, Math.abs(reference[t] - ours[t]));
      }
    }
    return worst;
  }
}
