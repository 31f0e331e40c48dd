package dev.tuneforge.llm.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Throughput of the forward pass and of generation with and without the KV cache. Reports the
 * median of several runs after a warm-up; timings are wall-clock on this machine.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "bench",
    description = "Forward tokens/s and generation tokens/s with and without the KV cache.")
final class BenchCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      description = "Model directory (default: a random model of the size below).")
  Path dir;

  @Option(names = "--hidden-size", defaultValue = "256")
  int hiddenSize;

  @Option(names = "--layers", defaultValue = "4")
  int layers;

  @Option(names = "--heads", defaultValue = "8")
  int heads;

  @Option(names = "--kv-heads", defaultValue = "4")
  int kvHeads;

  @Option(names = "--intermediate-size", defaultValue = "688")
  int intermediateSize;

  @Option(names = "--batch", defaultValue = "4", description = "Rows of the forward benchmark.")
  int batch;

  @Option(
      names = "--seq-len",
      defaultValue = "256",
      description = "Tokens per row of the forward benchmark.")
  int seqLen;

  @Option(names = "--new-tokens", defaultValue = "256", description = "Tokens to generate.")
  int newTokens;

  @Option(names = "--prompt-tokens", defaultValue = "16")
  int promptTokens;

  @Option(names = "--runs", defaultValue = "3")
  int runs;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path modelDir = dir;
    if (modelDir == null) {
      modelDir = Files.createTempDirectory("tuneforge-bench-");
      TinyLlama.write(
          modelDir, 1, new TinyLlama.Size(hiddenSize, layers, heads, kvHeads, intermediateSize));
    }
    Torch.engine();
    long fileBytes = weightBytes(modelDir);
    long rssBefore = procStatus("VmRSS");
    long peakBefore = Math.max(procStatus("VmHWM"), rssBefore);
    try (LlamaModel model = LlamaModel.load(modelDir, Compute.CPU_FLOAT32, Projections.DENSE)) {
      long rssAfter = procStatus("VmRSS");
      long peakAfter = Math.max(procStatus("VmHWM"), rssAfter);
      out.printf(
          "load         %,d MiB of weights: RSS +%,d MiB, peak RSS +%,d MiB (%.2fx the weights)%n",
          fileBytes >> 20,
          (rssAfter - rssBefore) >> 20,
          (peakAfter - rssBefore) >> 20,
          (double) (peakAfter - rssBefore) / fileBytes);
      out.printf(
          "model: %d layers, hidden %d, %d heads / %d kv, vocab %d; threads %s%n",
          model.config().numLayers(),
          model.config().hiddenSize(),
          model.config().numHeads(),
          model.config().numKvHeads(),
          model.config().vocabSize(),
          System.getProperty("ai.djl.pytorch.num_threads", "default"));
      double forward = median(() -> forward(model));
      out.printf(
          "forward      batch %d x %d tokens: %8.0f tokens/s%n",
          batch, seqLen, batch * seqLen / forward);
      double cached = median(() -> generate(model, true));
      double uncached = median(() -> generate(model, false));
      out.printf(
          "generate     %d new tokens, KV cache:    %8.1f tokens/s%n",
          newTokens, newTokens / cached);
      out.printf(
          "generate     %d new tokens, no cache:    %8.1f tokens/s%n",
          newTokens, newTokens / uncached);
      out.printf("cache speed-up at %d tokens: %.1fx%n", newTokens, uncached / cached);
    }
    return 0;
  }

  /** Bytes of the safetensors files of {@code dir}. */
  private static long weightBytes(Path dir) throws java.io.IOException {
    try (var files = Files.list(dir)) {
      long total = 0;
      for (Path file : files.filter(f -> f.toString().endsWith(".safetensors")).toList()) {
        total += Files.size(file);
      }
      return total;
    }
  }

  /** A /proc/self/status value in bytes (0 where /proc is absent). */
  private static long procStatus(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException | RuntimeException unavailable) {
      // not Linux
    }
    return 0;
  }

  private interface Timed {
    void run() throws Exception;
  }

  private double median(Timed body) throws Exception {
    body.run(); // warm-up
    double[] seconds = new double[runs];
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      body.run();
      seconds[i] = (System.nanoTime() - start) / 1e9;
    }
    Arrays.sort(seconds);
    return seconds[runs / 2];
  }

  private void forward(LlamaModel model) {
    long[] ids =
        new Random(1).longs((long) batch * seqLen, 0, model.config().vocabSize()).toArray();
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray input = scope.create(ids, new Shape(batch, seqLen));
      model.forward(input, null, null).get(":, -1, :").toFloatArray();
    }
  }

  private void generate(LlamaModel model, boolean cache) {
    int[] prompt = new Random(2).ints(promptTokens, 0, model.config().vocabSize()).toArray();
    GenerationConfig config = GenerationConfig.greedy(newTokens, Set.of()).withCache(cache);
    int produced =
        new Generator(model, null)
            .generate(List.of(prompt), config, Generator.TokenListener.NONE)
            .get(0)
            .tokens()
            .length;
    if (produced != newTokens) {
      throw new IllegalStateException("generated " + produced + " tokens instead of " + newTokens);
    }
  }
}
