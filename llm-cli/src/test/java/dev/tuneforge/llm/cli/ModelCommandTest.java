package dev.tuneforge.llm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./tuneforge model ...} in-process. */
class ModelCommandTest {
  @TempDir Path dir;

  record Result(int exitCode, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var commandLine = ModelCommand.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args);
    return new Result(exitCode, out.toString(), err.toString());
  }

  @Test
  void initTinyThenScorePrintsTheDocumentedJson() {
    Path model = dir.resolve("tiny");
    assertEquals(0, run("init-tiny", "--out", model.toString(), "--seed", "9").exitCode());
    Result score = run("score", "--model", model.toString(), "--text", "the cat", "--json");
    assertEquals(0, score.exitCode(), score.err());

    JsonObject json = JsonParser.parseString(score.out()).getAsJsonObject();
    int tokens = json.getAsJsonArray("token_ids").size();
    assertEquals(tokens, json.getAsJsonArray("tokens").size());
    assertEquals(tokens, json.getAsJsonArray("logprobs").size());
    assertTrue(json.getAsJsonArray("logprobs").get(0).isJsonNull());
    assertEquals("<s>", json.getAsJsonArray("tokens").get(0).getAsString());
    double sum = 0;
    for (int i = 1; i < tokens; i++) {
      double logprob = json.getAsJsonArray("logprobs").get(i).getAsDouble();
      assertTrue(logprob < 0, "a log-probability is negative: " + logprob);
      sum += logprob;
    }
    assertEquals(Math.exp(-sum / (tokens - 1)), json.get("perplexity").getAsDouble(), 1e-9);
  }

  @Test
  void infoDescribesTheModelAndGenerateStreamsText() {
    Path model = dir.resolve("tiny");
    run("init-tiny", "--out", model.toString());
    Result info = run("info", "--model", model.toString());
    assertTrue(info.out().contains("2 layers, hidden 64"), info.out());
    Result generate =
        run("generate", "--model", model.toString(), "--prompt", "Hi", "--max-new-tokens", "5");
    assertEquals(0, generate.exitCode(), generate.err());
    assertTrue(generate.out().startsWith("Hi"), generate.out());
    assertTrue(generate.err().contains("finish_reason"), generate.err());
  }

  /** Writes a tiny model and a LoRA adapter with a non-zero B (as a trained one has) for it. */
  private Path tinyModelWithAdapter(Path model) {
    run("init-tiny", "--out", model.toString());
    Path adapterDir = dir.resolve("adapter");
    LoraAdapter adapter = LoraAdapter.create(LoraSettings.defaults(), 1);
    try (LlamaModel loaded =
        LlamaModel.load(model, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      adapter
          .parameters()
          .forEach(
              (name, tensor) -> {
                if (name.endsWith("lora_B.weight")) {
                  Autograd.withGrad(false, () -> tensor.addi(0.05f));
                }
              });
      adapter.save(adapterDir, model.toString());
    }
    return adapterDir;
  }

  @Test
  void scoreAppliesAPeftAdapter() {
    Path model = dir.resolve("tiny");
    Path adapterDir = tinyModelWithAdapter(model);
    Result base = run("score", "--model", model.toString(), "--text", "the cat", "--json");
    Result adapted =
        run(
            "score",
            "--model",
            model.toString(),
            "--adapter",
            adapterDir.toString(),
            "--text",
            "the cat",
            "--json");
    assertEquals(0, adapted.exitCode(), adapted.err());
    double basePerplexity =
        JsonParser.parseString(base.out()).getAsJsonObject().get("perplexity").getAsDouble();
    double adaptedPerplexity =
        JsonParser.parseString(adapted.out()).getAsJsonObject().get("perplexity").getAsDouble();
    assertTrue(
        Math.abs(basePerplexity - adaptedPerplexity) > 1e-3, base.out() + " vs " + adapted.out());
  }

  @Test
  void mergedModelScoresLikeBasePlusAdapter() {
    Path model = dir.resolve("tiny");
    Path adapterDir = tinyModelWithAdapter(model);
    Path merged = dir.resolve("merged");
    Result merge =
        run(
            "merge",
            "--model",
            model.toString(),
            "--adapter",
            adapterDir.toString(),
            "--out",
            merged.toString());
    assertEquals(0, merge.exitCode(), merge.err());
    var adapted =
        JsonParser.parseString(
                run(
                        "score",
                        "--model",
                        model.toString(),
                        "--adapter",
                        adapterDir.toString(),
                        "--text",
                        "the cat sat",
                        "--json")
                    .out())
            .getAsJsonObject();
    var folded =
        JsonParser.parseString(
                run("score", "--model", merged.toString(), "--text", "the cat sat", "--json").out())
            .getAsJsonObject();
    var a = adapted.getAsJsonArray("logprobs");
    var b = folded.getAsJsonArray("logprobs");
    for (int i = 1; i < a.size(); i++) {
      assertEquals(a.get(i).getAsDouble(), b.get(i).getAsDouble(), 1e-5, "token " + i);
    }
  }

  @Test
  void errorsAreOneLineNamingTheProblem() {
    Result missing = run("score", "--model", dir.resolve("nope").toString(), "--text", "x");
    assertEquals(1, missing.exitCode());
    assertTrue(missing.err().startsWith("tuneforge model: "), missing.err());
    assertTrue(missing.err().contains("config.json is missing"), missing.err());
    Result bf16 = run("score", "--model", dir.toString(), "--text", "x", "--dtype", "bfloat16");
    assertTrue(bf16.err().contains("dtype \"bfloat16\" (bfloat16) is not supported"), bf16.err());
    Result gpu = run("score", "--model", dir.toString(), "--text", "x", "--device", "tpu");
    assertTrue(
        gpu.err().contains("device must be cpu, cuda, cuda:N or auto but was \"tpu\""), gpu.err());
  }
}
