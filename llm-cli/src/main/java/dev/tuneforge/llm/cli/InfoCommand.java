package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.checkpoint.HfCheckpoint;
import dev.tuneforge.llm.checkpoint.Safetensors;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.model.LlamaConfig;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    mixinStandardHelpOptions = true,
    name = "info",
    description = "Describe a model directory without loading its weights.")
final class InfoCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "Hugging Face model directory.")
  Path dir;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    LlamaConfig config = LlamaConfig.load(dir);
    long parameters = 0;
    long bytes = 0;
    Map<String, Integer> dtypes = new TreeMap<>();
    try (var files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".safetensors")).sorted().toList()) {
        bytes += Files.size(file);
        for (Safetensors.TensorInfo tensor : Safetensors.readHeader(file).tensors().values()) {
          long count = 1;
          for (long dim : tensor.shape()) {
            count *= dim;
          }
          parameters += count;
          dtypes.merge(tensor.dtype(), 1, Integer::sum);
        }
      }
    }
    out.printf("model        %s (%s)%n", dir, config.modelType());
    out.printf(
        "architecture %d layers, hidden %d, intermediate %d, %d heads / %d kv heads, head_dim %d%n",
        config.numLayers(),
        config.hiddenSize(),
        config.intermediateSize(),
        config.numHeads(),
        config.numKvHeads(),
        config.headDim());
    out.printf(
        "vocabulary   %d, max positions %d, rope_theta %s%s%n",
        config.vocabSize(),
        config.maxPositionEmbeddings(),
        config.ropeTheta(),
        config.ropeScaling().map(s -> ", rope_scaling " + s.type() + " x" + s.factor()).orElse(""));
    out.printf(
        "weights      %,d parameters, %,d bytes, dtypes %s, %s%n",
        parameters,
        bytes,
        dtypes,
        Files.exists(dir.resolve(HfCheckpoint.INDEX_FILE)) ? "sharded" : "single file");
    out.printf(
        "tied head    %s; biases qkv=%s o=%s mlp=%s%n",
        config.tieWordEmbeddings(), config.qkvBias(), config.outputBias(), config.mlpBias());
    if (Files.exists(dir.resolve("tokenizer.json"))) {
      try (Tokenizer tokenizer = Tokenizer.load(dir)) {
        var special = tokenizer.special();
        out.printf(
            "tokenizer    bos %s (%d), eos %s (%d), pad %s (%d)%n",
            special.bos(),
            special.bosId(),
            special.eos(),
            special.eosId(),
            special.pad(),
            special.padId());
        out.printf(
            "chat         %s%n",
            ChatTemplate.fromModel(dir, tokenizer.config(), "default")
                .map(t -> "template in the model")
                .orElse("no template (built-ins: " + ChatTemplate.BUILT_IN + ")"));
      }
    } else {
      out.println("tokenizer    none (tokenizer.json missing)");
    }
    return 0;
  }
}
