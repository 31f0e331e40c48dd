package dev.tuneforge.eval;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.platform.storage.ObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/** Tiny models for eval-service tests: a base in the bucket and PEFT adapters for it. */
public final class TestModels {
  private TestModels() {}

  /** Writes a tiny Llama of {@code seed} and puts it under {@code models/{name}/}. */
  public static Path base(ObjectStore store, String name, long seed) throws Exception {
    store.ensureBucket();
    Path dir = Files.createTempDirectory(name);
    TinyLlama.write(dir, seed, TinyLlama.Size.DEFAULT);
    put(store, dir, "models/" + name + "/");
    return dir;
  }

  /**
   * A LoRA adapter for {@code base}, saved in PEFT layout: PEFT's initialisation (B = 0, the base's
   * answers exactly) or, {@code perturbed}, B far from zero so the answers change.
   */
  public static Path adapter(Path base, String baseName, boolean perturbed) throws Exception {
    Path dir = Files.createTempDirectory("adapter");
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(8, 16, 0.0, LoraSettings.ALL_LINEAR, false), 3);
    try (LlamaModel model =
        LlamaModel.load(base, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      if (perturbed) {
        for (Map.Entry<String, NDArray> p : adapter.parameters().entrySet()) {
          if (p.getKey().contains("lora_B")) {
            NDArray b = p.getValue();
            b.addi(b.getManager().randomNormal(0, 0.5f, b.getShape(), b.getDataType()));
          }
        }
      }
      adapter.save(dir, baseName);
    }
    return dir;
  }

  /** A PEFT IA3 adapter on every projection with vectors far from ones. */
  public static Path ia3Adapter(Path base, String baseName) throws Exception {
    Path dir = Files.createTempDirectory("ia3-adapter");
    dev.tuneforge.llm.adapter.ia3.Ia3Adapter adapter =
        dev.tuneforge.llm.adapter.ia3.Ia3Adapter.create(
            new dev.tuneforge.llm.adapter.ia3.Ia3Settings(
                java.util.List.of(
                    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                null,
                java.util.List.of("down_proj"),
                null));
    try (LlamaModel model =
        LlamaModel.load(base, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      // Fixed values far from ones (not the engine's random state, which depends on what ran
      // before), so the tuned model answers differently from its base every time.
      java.util.Random random = new java.util.Random(13);
      for (NDArray l : adapter.parameters().values()) {
        float[] values = new float[(int) l.getShape().size()];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) (random.nextDouble() * 6 - 3);
        }
        dev.tuneforge.llm.engine.Autograd.withGrad(
            false,
            () -> {
              l.set(java.nio.FloatBuffer.wrap(values));
              return null;
            });
      }
      adapter.save(dir, baseName);
    }
    return dir;
  }

  /** A PEFT prompt tuning adapter of 6 virtual tokens with fixed values. */
  public static Path promptTuningAdapter(Path base, String baseName) throws Exception {
    Path dir = Files.createTempDirectory("prompt-adapter");
    dev.tuneforge.llm.adapter.prompt.PromptTuningAdapter adapter =
        dev.tuneforge.llm.adapter.prompt.PromptTuningAdapter.create(
            new dev.tuneforge.llm.adapter.prompt.PromptTuningSettings(6, "RANDOM", null, null),
            null,
            13); // drawn from java.util.Random(13), not the engine's state
    try (LlamaModel model =
        LlamaModel.load(base, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      adapter.save(dir, baseName);
    }
    return dir;
  }

  /** A PEFT prefix tuning adapter of 4 virtual tokens with fixed values. */
  public static Path prefixTuningAdapter(Path base, String baseName) throws Exception {
    Path dir = Files.createTempDirectory("prefix-adapter");
    dev.tuneforge.llm.adapter.prefix.PrefixTuningAdapter adapter =
        dev.tuneforge.llm.adapter.prefix.PrefixTuningAdapter.create(
            new dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings(4, false, 0), 17);
    try (LlamaModel model =
        LlamaModel.load(base, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      adapter.save(dir, baseName);
    }
    return dir;
  }

  /** A PEFT AdaLoRA adapter with fixed singular values far from zero and one rank pruned. */
  public static Path adaLoraAdapter(Path base, String baseName) throws Exception {
    Path dir = Files.createTempDirectory("adalora-adapter");
    dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter adapter =
        dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter.create(
            dev.tuneforge.llm.adapter.adalora.AdaLoraSettings.defaults(10), 19);
    try (LlamaModel model =
        LlamaModel.load(base, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      java.util.Random random = new java.util.Random(19);
      for (var p : adapter.parameters().entrySet()) {
        float[] values = new float[(int) p.getValue().getShape().size()];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) (random.nextGaussian() * (p.getKey().endsWith("lora_E") ? 3 : 0.3));
        }
        dev.tuneforge.llm.engine.Autograd.withGrad(
            false,
            () -> {
              p.getValue().set(java.nio.FloatBuffer.wrap(values));
              return null;
            });
      }
      adapter.save(dir, baseName);
    }
    return dir;
  }

  /** Puts every file under {@code dir} below {@code prefix}. */
  public static void put(ObjectStore store, Path dir, String prefix) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        store.put(
            prefix + dir.relativize(file), Files.readAllBytes(file), "application/octet-stream");
      }
    }
  }

  /** Commits an adapter directory as a job's final result, as the trainer does. */
  public static void commitFinal(
      dev.tuneforge.platform.storage.Artifacts artifacts, String job, Path adapter)
      throws Exception {
    try (dev.tuneforge.platform.storage.ArtifactWriter writer =
            artifacts.begin("jobs/" + job + "/final/");
        Stream<Path> files = Files.list(adapter)) {
      for (Path file : files.toList()) {
        writer.put(
            file.getFileName().toString(), Files.readAllBytes(file), "application/octet-stream");
      }
      writer.commit(java.util.Map.of("job_id", job, "kind", "adapter"));
    }
  }
}
