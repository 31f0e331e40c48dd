package dev.tuneforge.llm.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.adapter.Nf4Linear;
import dev.tuneforge.llm.checkpoint.Safetensors;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.NativeMemory;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Training throughput of one method on one model: tokens/s (median step), peak RSS of this JVM, and
 * MFU against the machine's measured libtorch float32 GEMM rate. Run one method per JVM so the peak
 * RSS is that method's (tools/bench/train-bench.sh runs all, and the PyTorch reference).
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "train-bench",
    description = "Training tokens/s, peak RSS and MFU of full fine-tuning or one PEFT method.")
final class TrainBenchCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      description = "Model directory (float32 safetensors).")
  Path dir;

  @Option(
      names = "--method",
      defaultValue = "lora",
      description =
          "full, lora, qlora (LoRA r=16 on all linear projections), ia3 (PEFT's defaults), prompt"
              + " or prefix (20 virtual tokens), adalora (init_r 12, target_r 8).")
  String method;

  @Option(names = "--double-quant", description = "QLoRA: 8-bit block scales.")
  boolean doubleQuant;

  @Option(
      names = "--gradient-checkpointing",
      description = "Recompute activations in the backward.")
  boolean gradientCheckpointing;

  @Option(
      names = "--compute-dtype",
      defaultValue = "float32",
      description = "QLoRA: dtype of the dequantized matmuls, float16 or float32.")
  String computeDtype;

  @Option(
      names = "--base-dtype",
      defaultValue = "float32",
      description = "LoRA: dtype the frozen base is kept in, float32 or float16.")
  String baseDtype;

  @Option(
      names = "--save-adapter",
      description = "Write the trained adapter (PEFT layout) here after the timed steps.")
  Path saveAdapter;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      description = "cpu, cuda or cuda:N (the GPU kit's rows).")
  String device;

  @Option(
      names = "--peak-flops",
      defaultValue = "0",
      description =
          "The device's peak FLOP/s for the MFU (e.g. 989e12, an H200's dense bf16); 0: this"
              + " machine's measured float32 matmul rate.")
  double peakFlops;

  @Option(names = "--batch", defaultValue = "8")
  int batch;

  @Option(names = "--seq-len", defaultValue = "128")
  int seqLen;

  @Option(
      names = "--steps",
      defaultValue = "6",
      description = "Timed steps (after 2 warm-up steps).")
  int steps;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Compute compute = new Compute(device, "float32");
    boolean gpu = compute.device().startsWith("cuda");
    double gemm = peakFlops > 0 ? peakFlops : gemmFlops();
    long[] peakGpuUsed = {gpu ? gpuUsedBytes() : 0};
    dev.tuneforge.llm.adapter.Adapter adapter =
        switch (method) {
          case "full" -> null;
          case "lora", "qlora" ->
              LoraAdapter.create(new LoraSettings(16, 32, 0.0, LoraSettings.ALL_LINEAR, false), 1);
          case "ia3" ->
              dev.tuneforge.llm.adapter.ia3.Ia3Adapter.create(
                  dev.tuneforge.llm.adapter.ia3.Ia3Settings.forModel(dir, null, null));
          case "prompt" ->
              dev.tuneforge.llm.adapter.prompt.PromptTuningAdapter.create(
                  new dev.tuneforge.llm.adapter.prompt.PromptTuningSettings(
                      20, "RANDOM", null, dir.toString()),
                  null,
                  1);
          case "prefix" ->
              dev.tuneforge.llm.adapter.prefix.PrefixTuningAdapter.create(
                  new dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings(20, false, 0), 1);
          case "adalora" ->
              dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter.create(
                  dev.tuneforge.llm.adapter.adalora.AdaLoraSettings.defaults(steps + 2), 1);
          default ->
              throw new IllegalArgumentException(
                  "--method must be full, lora, qlora, ia3, prompt, prefix or adalora but was "
                      + method);
        };
    Projections base =
        method.equals("qlora")
            ? Nf4Linear.projections(64, doubleQuant, dtype(computeDtype))
            : dtype(baseDtype) != ai.djl.ndarray.types.DataType.FLOAT32 && adapter != null
                ? dev.tuneforge.llm.model.HalfLinear.projections(dtype(baseDtype))
                : Projections.DENSE;
    long parameters = parameterCount(dir);
    long loadStart = System.nanoTime();
    try (LlamaModel model =
        LlamaModel.load(dir, compute, adapter == null ? base : adapter.projections(base))) {
      double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
      double loadPeakMib = NativeMemory.peakRssBytes() / 1048576.0;
      double residentMib = NativeMemory.rssBytes() / 1048576.0;
      boolean reset = NativeMemory.resetPeakRss();
      Map<String, NDArray> trainable = adapter == null ? model.weights() : adapter.parameters();
      List<TokenizedExample> data = randomBatches(model.config().vocabSize(), (steps + 2) * batch);
      SftSettings settings =
          new SftSettings(1e-4, batch, 1, steps + 2, 0, 1.0, "constant", 0, 0, 0.0, 1, 0, 1);
      List<Double> stepSeconds = new ArrayList<>();
      long[] last = {System.nanoTime()};
      SftRecipe recipe =
          new SftRecipe(model, trainable, settings)
              .withGradientCheckpointing(gradientCheckpointing);
      if (adapter != null) {
        recipe.withAdapterTraining(dev.tuneforge.llm.recipe.AdapterTraining.of(adapter));
      }
      long trainableCount = trainable.values().stream().mapToLong(t -> t.getShape().size()).sum();
      recipe.train(
          data,
          List.of(),
          p -> {
            long now = System.nanoTime();
            if (gpu) {
              peakGpuUsed[0] = Math.max(peakGpuUsed[0], gpuUsedBytes());
            }
            if (p.step() > 2) {
              stepSeconds.add((now - last[0]) / 1e9);
            }
            last[0] = now;
          });
      if (saveAdapter != null && adapter != null) {
        adapter.save(saveAdapter, dir.toString());
      }
      double median = stepSeconds.stream().sorted().toList().get(stepSeconds.size() / 2);
      double tokensPerSecond = batch * (seqLen - 1) / median;
      // FLOPs per token: forward 2P; backward 2P for activation gradients, plus 2P for weight
      // gradients when every weight trains (the usual 6P); adapters add little and are ignored.
      double flopsPerToken = (method.equals("full") ? 6.0 : 4.0) * parameters;
      double mfu = flopsPerToken * tokensPerSecond / gemm;
      out.printf(
          "{\"engine\": \"tuneforge djl %s\", \"method\": \"%s\", \"variant\": \"%s\","
              + " \"gradient_checkpointing\": %s, \"batch\": \"%dx%d\", \"parameters\": %d,"
              + " \"trainable\": %d,"
              + " \"load_seconds\": %.1f, \"load_peak_rss_mib\": %.0f, \"resident_after_load_mib\": %.0f,"
              + " \"tokens_per_second\": %.1f, \"peak_rss_mib\": %.0f, \"gemm_gflops\": %.1f,"
              + " \"mfu\": %.3f, \"device\": \"%s\", \"peak_gpu_used_mib\": %.0f}%n",
          Torch.engine().getVersion(),
          method,
          variant(),
          gradientCheckpointing,
          batch,
          seqLen,
          parameters,
          trainableCount,
          loadSeconds,
          loadPeakMib,
          residentMib,
          tokensPerSecond,
          reset ? NativeMemory.peakRssBytes() / 1048576.0 : Math.max(loadPeakMib, peakRssMib()),
          gemm / 1e9,
          mfu,
          compute.device(),
          peakGpuUsed[0] / 1048576.0);
    }
    return 0;
  }

  private String variant() {
    return switch (method) {
      case "qlora" -> "nf4 " + computeDtype + (doubleQuant ? " double-quant" : "");
      case "lora" -> "base " + baseDtype;
      default -> "float32";
    };
  }

  private static ai.djl.ndarray.types.DataType dtype(String name) {
    // float32, float16, or bfloat16 with a JNI that maps it (else refused by name)
    return dev.tuneforge.llm.engine.HalfPrecision.storageType("dtype", name);
  }

  private List<TokenizedExample> randomBatches(int vocab, int count) {
    Random random = new Random(3);
    List<TokenizedExample> examples = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int[] ids = random.ints(seqLen, 0, vocab).toArray();
      boolean[] trained = new boolean[seqLen];
      Arrays.fill(trained, true);
      examples.add(new TokenizedExample(ids, trained));
    }
    return examples;
  }

  /**
   * Float32 matmul FLOP/s of this libtorch on this machine (2048^3, median of 10); at 1024^3 the
   * rate was below what the training steps' own large matmuls reach, and the MFU came out above 1.
   */
  static double gemmFlops() {
    try (NDManager manager = Torch.engine().newBaseManager()) {
      NDArray a = manager.randomUniform(-1, 1, new Shape(2048, 2048));
      NDArray b = manager.randomUniform(-1, 1, new Shape(2048, 2048));
      double[] seconds = new double[10];
      for (int i = -2; i < seconds.length; i++) {
        long start = System.nanoTime();
        try (NDArray c = a.matMul(b)) {
          c.getFloat(0, 0);
        }
        if (i >= 0) {
          seconds[i] = (System.nanoTime() - start) / 1e9;
        }
      }
      Arrays.sort(seconds);
      return 2.0 * 2048 * 2048 * 2048 / seconds[seconds.length / 2];
    }
  }

  /**
   * Memory in use on GPU 0 (total minus free, as the driver reports it: libtorch's caching
   * allocator's reserve included, and any other process's), sampled after each step.
   */
  private static long gpuUsedBytes() {
    var memory = ai.djl.util.cuda.CudaUtils.getGpuMemory(ai.djl.Device.gpu(0));
    return memory.getUsed();
  }

  private static long parameterCount(Path dir) throws Exception {
    long count = 0;
    try (var files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".safetensors")).toList()) {
        for (Safetensors.TensorInfo t : Safetensors.readHeader(file).tensors().values()) {
          count += Arrays.stream(t.shape()).reduce(1, (x, y) -> x * y);
        }
      }
    }
    return count;
  }

  private static double peakRssMib() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return 0;
  }
}
