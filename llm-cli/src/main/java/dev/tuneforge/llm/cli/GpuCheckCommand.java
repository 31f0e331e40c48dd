package dev.tuneforge.llm.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.eval.ReferenceLogprobs;
import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The device kit's checks (tools/gpu/device.sh), in one process, each section written to {@code
 * <out>/gpu-check.json} as soon as it is done, so a run cut short still reports what it reached:
 * where libtorch was loaded from and what device it sees; log-prob parity of the committed
 * reference models on the device against their PyTorch reference, in float32 (≤ 1e-4) and float16
 * (≤ 0.1); bfloat16 tensors created, multiplied and read back (which the kit's patched JNI allows
 * and DJL's own aborts on), against float32; greedy generation on the device equal to the CPU's.
 */
@Command(
    name = "gpu-check",
    description = "The GPU kit's checks on --device, written to --out/gpu-check.json.")
final class GpuCheckCommand implements Callable<Integer> {
  /** The reference models of ReferenceParityTest with their PyTorch log-probs. */
  static final List<String> REFERENCES =
      List.of(
          "gqa",
          "mha-untied",
          "attention-and-mlp-bias",
          "qwen2",
          "bf16-weights",
          "llama3-rope",
          "qwen3",
          "mistral-sliding-window",
          "phi3",
          "gemma2",
          "gemma3");

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--out", required = true, description = "Directory for gpu-check.json.")
  Path out;

  @Option(names = "--device", defaultValue = "cuda", description = "cuda, cuda:N or cpu.")
  String device;

  @Option(
      names = "--references",
      defaultValue = "llm-core/src/test/resources/reference",
      description = "The committed reference models (with expected.json).")
  Path references;

  @Option(
      names = "--bf16",
      description =
          "Also check bfloat16 tensors and compute (needs a JNI with the kit's patch and"
              + " TUNEFORGE_JNI_BF16=true).")
  boolean bf16;

  private final Map<String, Object> report = new LinkedHashMap<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter log = spec.commandLine().getErr();
    Files.createDirectories(out);
    section("environment", this::environment, log);
    section("parity_float32", () -> parity("float32", 1e-4), log);
    if (!device.equals("cpu")) { // half-precision kernels are a GPU's (some CPU builds lack them)
      section("parity_float16", () -> parity("float16", 0.1), log);
    }
    if (bf16) {
      section("bfloat16_ops", this::bfloat16, log);
      // bfloat16 keeps 8 bits of mantissa: log-probs near -20 move by a few tenths
      section("parity_bfloat16", () -> parity("bfloat16", 0.5), log);
    }
    section("generation", this::generation, log);
    boolean passed =
        report.values().stream()
            .allMatch(v -> !(v instanceof Map<?, ?> m) || !Boolean.FALSE.equals(m.get("passed")));
    report.put("passed", passed);
    write();
    log.println(
        "gpu-check: " + (passed ? "passed" : "FAILED") + "; " + out.resolve("gpu-check.json"));
    return passed ? 0 : 1;
  }

  /** Runs one section; a failure is recorded with its message and the next section still runs. */
  private void section(String name, Supplier<Map<String, Object>> check, PrintWriter log) {
    long start = System.nanoTime();
    Map<String, Object> result;
    try {
      result = check.get();
    } catch (RuntimeException | Error e) {
      result = new LinkedHashMap<>();
      result.put("passed", false);
      result.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    result.put("seconds", (System.nanoTime() - start) / 1e9);
    report.put(name, result);
    log.println("gpu-check: " + name + " " + result);
    log.flush();
    write();
  }

  private void write() {
    try {
      Files.writeString(
          out.resolve("gpu-check.json"),
          new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(report),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Map<String, Object> environment() {
    Map<String, Object> env = new LinkedHashMap<>();
    env.put("engine", Torch.engine().getEngineName() + " " + Torch.engine().getVersion());
    env.put("libtorch", System.getenv().getOrDefault("PYTORCH_LIBRARY_PATH", "(DJL's own)"));
    env.put("device", device);
    env.put("gpus", ai.djl.util.cuda.CudaUtils.getGpuCount());
    if (ai.djl.util.cuda.CudaUtils.getGpuCount() > 0) {
      env.put("compute_capability", ai.djl.util.cuda.CudaUtils.getComputeCapability(0));
      var memory = ai.djl.util.cuda.CudaUtils.getGpuMemory(Device.gpu(0));
      env.put("gpu_memory_mib", memory.getMax() / 1048576);
    }
    try (NDManager manager = Torch.engine().newBaseManager(device(device))) {
      NDArray x = manager.arange(6f).reshape(2, 3);
      env.put("tensor_on", x.getDevice().toString());
    }
    return env;
  }

  private static Device device(String name) {
    return name.startsWith("cuda") || name.startsWith("gpu")
        ? Device.gpu(
            name.contains(":") ? Integer.parseInt(name.substring(name.indexOf(':') + 1)) : 0)
        : Device.cpu();
  }

  /** Each reference model's log-probs on the device against the PyTorch reference's. */
  private Map<String, Object> parity(String dtype, double tolerance) {
    Map<String, Object> result = new LinkedHashMap<>();
    Map<String, Double> errors = new LinkedHashMap<>();
    double worst = 0;
    for (String name : REFERENCES) {
      Path dir = references.resolve(name);
      ReferenceLogprobs expected = ReferenceLogprobs.read(dir);
      try (LlamaModel model = LlamaModel.load(dir, new Compute(device, dtype), Projections.DENSE)) {
        double error = expected.maxError(model);
        errors.put(name, error);
        worst = Math.max(worst, error);
      }
    }
    result.put("tolerance", tolerance);
    result.put("max_abs_error", worst);
    result.put("by_model", errors);
    result.put("passed", worst <= tolerance);
    return result;
  }

  /**
   * bfloat16 on the device: created from float32, multiplied, converted back and read into Java;
   * bfloat16 keeps 8 bits of mantissa, so a 64-long dot product of values in [-1, 1] stays within
   * about 0.1 of float32's.
   */
  private Map<String, Object> bfloat16() {
    Map<String, Object> result = new LinkedHashMap<>();
    try (NDManager manager = Torch.engine().newBaseManager(device(device))) {
      ai.djl.engine.Engine.getInstance().setRandomSeed(3);
      NDArray a = manager.randomUniform(-1, 1, new Shape(32, 64));
      NDArray b = manager.randomUniform(-1, 1, new Shape(64, 16));
      NDArray reference = a.matMul(b);
      NDArray half = a.toType(DataType.BFLOAT16, false).matMul(b.toType(DataType.BFLOAT16, false));
      result.put("dtype_read_back", half.getDataType().toString());
      float[] values = half.toType(DataType.FLOAT32, false).toFloatArray();
      float[] expected = reference.toFloatArray();
      double error = 0;
      for (int i = 0; i < values.length; i++) {
        error = Math.max(error, Math.abs(values[i] - expected[i]));
      }
      result.put("max_abs_error_vs_float32", error);
      result.put("passed", half.getDataType() == DataType.BFLOAT16 && error <= 0.1 && error > 0);
    }
    return result;
  }

  /** Greedy tokens of a reference model on the device, equal to those on the CPU. */
  private Map<String, Object> generation() {
    Path dir = references.resolve("gqa");
    int[] prompt = ReferenceLogprobs.read(dir).sequences().get(0);
    int[] head = java.util.Arrays.copyOf(prompt, Math.min(8, prompt.length));
    List<Integer> onDevice = greedy(dir, new Compute(device, "float32"), head);
    List<Integer> onCpu = greedy(dir, Compute.CPU_FLOAT32, head);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("tokens", onDevice);
    result.put("cpu_tokens", onCpu);
    result.put("passed", onDevice.equals(onCpu));
    return result;
  }

  private static List<Integer> greedy(Path dir, Compute compute, int[] prompt) {
    try (LlamaModel model = LlamaModel.load(dir, compute, Projections.DENSE)) {
      GenerationConfig config = GenerationConfig.greedy(12, Set.of());
      Generated generated =
          dev.tuneforge.llm.engine.Autograd.withGrad(
              false,
              () ->
                  new Generator(model, null)
                      .generate(List.of(prompt), config, Generator.TokenListener.NONE)
                      .get(0));
      List<Integer> tokens = new ArrayList<>();
      for (int token : generated.tokens()) {
        tokens.add(token);
      }
      return tokens;
    }
  }
}
