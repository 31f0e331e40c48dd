package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    mixinStandardHelpOptions = true,
    name = "init-tiny",
    description =
        "Write a small random Llama with a byte-level BPE tokenizer, reproducible from a seed.")
final class InitTinyCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--out",
      required = true,
      description = "Directory to write (must not exist or be empty).")
  Path out;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Seed of the weights (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--hidden-size", defaultValue = "64")
  int hiddenSize;

  @Option(names = "--layers", defaultValue = "2")
  int layers;

  @Option(names = "--heads", defaultValue = "4")
  int heads;

  @Option(names = "--kv-heads", defaultValue = "2")
  int kvHeads;

  @Option(names = "--intermediate-size", defaultValue = "176")
  int intermediateSize;

  @Option(
      names = "--reward-model",
      description =
          "Write a reward model instead: the tiny Llama's backbone with a random score head, in"
              + " Hugging Face sequence-classification layout (what reward-service serves).")
  boolean rewardModel;

  /** Refuses to write into a directory that holds anything. */
  static void requireEmpty(Path out) throws java.io.IOException {
    if (Files.isDirectory(out)) {
      try (var entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(out + " is not empty; choose a new directory");
        }
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    requireEmpty(out);
    TinyLlama.Size size = new TinyLlama.Size(hiddenSize, layers, heads, kvHeads, intermediateSize);
    if (rewardModel) {
      Path causal = Files.createTempDirectory("tiny-causal");
      TinyLlama.write(causal, seed, size);
      try (dev.tuneforge.llm.model.LlamaModel backbone =
              dev.tuneforge.llm.model.LlamaModel.load(
                  causal,
                  dev.tuneforge.llm.engine.Compute.CPU_FLOAT32,
                  dev.tuneforge.llm.model.Projections.DENSE);
          dev.tuneforge.llm.preference.RewardModel model =
              dev.tuneforge.llm.preference.RewardModel.fromCausalLm(backbone, seed)) {
        model.save(out, causal);
      }
      spec.commandLine()
          .getOut()
          .println("wrote a tiny reward model (seed " + seed + ") to " + out);
      return 0;
    }
    TinyLlama.write(out, seed, size);
    spec.commandLine().getOut().println("wrote a tiny Llama (seed " + seed + ") to " + out);
    return 0;
  }
}
