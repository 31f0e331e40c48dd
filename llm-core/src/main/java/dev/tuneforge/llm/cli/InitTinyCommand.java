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

  @Override
  public Integer call() throws Exception {
    if (Files.isDirectory(out)) {
      try (var entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(out + " is not empty; choose a new directory");
        }
      }
    }
    TinyLlama.write(
        out, seed, new TinyLlama.Size(hiddenSize, layers, heads, kvHeads, intermediateSize));
    spec.commandLine().getOut().println("wrote a tiny Llama (seed " + seed + ") to " + out);
    return 0;
  }
}
