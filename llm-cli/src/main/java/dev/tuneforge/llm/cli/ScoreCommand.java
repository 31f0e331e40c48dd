package dev.tuneforge.llm.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.metrics.TokenScorer;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    mixinStandardHelpOptions = true,
    name = "score",
    description =
        "Per-token log-probabilities and perplexity of a text: logprobs[i] = log p(token i | tokens < i).")
final class ScoreCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Mixin ModelCommand.ModelOptions model;

  @Option(
      names = "--text",
      required = true,
      description = "Text to score (BOS added as the tokenizer config asks).")
  String text;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (LlamaModel loaded = model.load();
        Tokenizer tokenizer = model.tokenizer()) {
      int[] ids = tokenizer.encode(text);
      TokenScorer.Scored scored = TokenScorer.score(loaded, List.of(ids)).get(0);
      if (json) {
        out.println(toJson(scored, tokenizer));
        return 0;
      }
      for (int i = 0; i < ids.length; i++) {
        String logprob = i == 0 ? "-" : String.format("%.4f", scored.logprobs()[i]);
        out.printf("%6d  %-16s %s%n", ids[i], "'" + tokenizer.token(ids[i]) + "'", logprob);
      }
      out.printf("perplexity %.4f over %d tokens%n", scored.perplexity(), ids.length - 1);
      return 0;
    }
  }

  static String toJson(TokenScorer.Scored scored, Tokenizer tokenizer) {
    JsonObject json = new JsonObject();
    JsonArray ids = new JsonArray();
    JsonArray tokens = new JsonArray();
    JsonArray logprobs = new JsonArray();
    for (int i = 0; i < scored.tokenIds().length; i++) {
      ids.add(scored.tokenIds()[i]);
      tokens.add(tokenizer.token(scored.tokenIds()[i]));
      if (i == 0) {
        logprobs.add(JsonNull.INSTANCE);
      } else {
        logprobs.add(scored.logprobs()[i]);
      }
    }
    json.add("token_ids", ids);
    json.add("tokens", tokens);
    json.add("logprobs", logprobs);
    json.addProperty("perplexity", scored.perplexity());
    return new GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(json);
  }
}
