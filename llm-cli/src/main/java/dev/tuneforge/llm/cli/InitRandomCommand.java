package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.checkpoint.RandomCheckpoint;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code init-random}: a random BF16 checkpoint in a real model's public shape. */
@Command(
    mixinStandardHelpOptions = true,
    name = "init-random",
    description =
        "Write a random BF16 checkpoint in the shape of tinyllama-1.1b, qwen2.5-0.5b or llama-2-7b,"
            + " tensor by tensor (for benchmarks at real sizes).")
final class InitRandomCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--shape",
      required = true,
      description = "tinyllama-1.1b, qwen2.5-0.5b, llama-2-7b.")
  String shape;

  @Option(names = "--out", required = true, description = "Directory to write (new or empty).")
  Path out;

  @Option(names = "--seed", defaultValue = "1")
  long seed;

  @Override
  public Integer call() throws Exception {
    InitTinyCommand.requireEmpty(out);
    long start = System.nanoTime();
    RandomCheckpoint.write(out, RandomCheckpoint.shape(shape), seed);
    spec.commandLine()
        .getOut()
        .printf(
            "wrote a random %s (seed %d, BF16) to %s in %.1f s%n",
            shape, seed, out, (System.nanoTime() - start) / 1e9);
    return 0;
  }
}
