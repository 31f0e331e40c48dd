package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.adapter.ia3.Ia3Adapter;
import dev.tuneforge.llm.adapter.ia3.Ia3Settings;
import dev.tuneforge.llm.adapter.prefix.PrefixTuningAdapter;
import dev.tuneforge.llm.adapter.prefix.PrefixTuningSettings;
import dev.tuneforge.llm.adapter.prompt.PromptTuningAdapter;
import dev.tuneforge.llm.adapter.prompt.PromptTuningSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One invariant suite over every adapter configuration, through the {@link Adapter} interface
 * alone: initialised it is the base where the method starts at the identity (prompt tuning does
 * not), with its tensors moved it acts and disabled it is the base again, merged equals unmerged (a
 * method with nothing to merge refuses by name), a training step changes only adapter tensors, its
 * PEFT directory loads to the same logits, and steps hold a flat number of native arrays.
 */
class AdapterInvariantsTest {
  @TempDir static Path dir;
  static final long[] IDS = {268, 72, 101, 108, 108, 111, 262, 32, 119, 267};

  @BeforeAll
  static void writeBase() {
    TinyLlama.write(dir, 4, TinyLlama.Size.DEFAULT);
  }

  static Stream<Arguments> adapters() {
    List<String> all =
        List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
    Map<String, Supplier<Adapter>> configs = new java.util.LinkedHashMap<>();
    configs.put(
        "lora r=8 all-linear",
        () -> LoraAdapter.create(new LoraSettings(8, 16, 0.0, LoraSettings.ALL_LINEAR, false), 3));
    configs.put(
        "lora rslora q,v",
        () ->
            LoraAdapter.create(new LoraSettings(4, 8, 0.0, List.of("q_proj", "v_proj"), true), 4));
    configs.put(
        "dora r=8 all-linear",
        () ->
            LoraAdapter.create(
                new LoraSettings(8, 16, 0.0, LoraSettings.ALL_LINEAR, false, "none", true), 5));
    configs.put(
        "lora gaussian init q,v",
        () ->
            LoraAdapter.create(
                new LoraSettings(
                    8,
                    16,
                    0.0,
                    List.of("q_proj", "v_proj"),
                    false,
                    "none",
                    false,
                    List.of(),
                    null,
                    false,
                    "gaussian"),
                12));
    configs.put("ia3 llama defaults", () -> Ia3Adapter.create(Ia3Settings.defaults("llama")));
    configs.put(
        "ia3 all projections",
        () -> Ia3Adapter.create(new Ia3Settings(all, null, List.of("down_proj"), null)));
    configs.put(
        "prompt tuning 6 random",
        () ->
            PromptTuningAdapter.create(new PromptTuningSettings(6, "RANDOM", null, null), null, 7));
    configs.put(
        "prompt tuning 4 sampled",
        () ->
            PromptTuningAdapter.create(
                new PromptTuningSettings(4, "SAMPLE_VOCAB", null, null), null, 8));
    configs.put(
        "adalora q,v",
        () ->
            dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter.create(
                dev.tuneforge.llm.adapter.adalora.AdaLoraSettings.defaults(100), 11));
    configs.put(
        "prefix tuning 5",
        () -> PrefixTuningAdapter.create(new PrefixTuningSettings(5, false, 0), 9));
    configs.put(
        "prefix tuning 3 projected",
        () -> PrefixTuningAdapter.create(new PrefixTuningSettings(3, true, 32), 10));
    return configs.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
  }

  static float[] logits(LlamaModel model) {
    try (NDManager scope = model.manager().newSubManager()) {
      return model.forward(scope.create(IDS, new Shape(1, IDS.length)), null, null).toFloatArray();
    }
  }

  static float[] base() {
    try (LlamaModel plain = LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE)) {
      return logits(plain);
    }
  }

  static LlamaModel load(Adapter adapter) {
    return LlamaModel.load(dir, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE));
  }

  /** Moves every adapter tensor by noise, as training would. */
  static void perturb(Adapter adapter) {
    adapter
        .parameters()
        .forEach(
            (name, tensor) -> {
              tensor.getManager().getEngine().setRandomSeed(name.hashCode());
              NDArray noise =
                  tensor
                      .getManager()
                      .randomNormal(0, 0.1f, tensor.getShape(), tensor.getDataType());
              Autograd.withGrad(false, () -> tensor.addi(noise));
            });
  }

  static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], tolerance, what + ": logit " + i);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("adapters")
  void initialisedIsTheBaseMovedItActsDisabledIsTheBase(String name, Supplier<Adapter> make) {
    float[] base = base();
    Adapter adapter = make.get();
    try (LlamaModel model = load(adapter)) {
      assertFalse(adapter.parameters().isEmpty(), "trainable tensors");
      if (adapter.startsAsBase()) {
        assertClose(base, logits(model), 1e-5, "initialised");
      } else {
        assertFalse(java.util.Arrays.equals(base, logits(model)), "initialised, it acts");
      }
      perturb(adapter);
      assertFalse(java.util.Arrays.equals(base, logits(model)), "the adapter acts");
      adapter.setEnabled(false);
      assertArrayEquals(base, logits(model), 0f, "disabled");
      adapter.setEnabled(true);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("adapters")
  void mergedEqualsUnmerged(String name, Supplier<Adapter> make) {
    Adapter adapter = make.get();
    try (LlamaModel model = load(adapter)) {
      perturb(adapter);
      float[] unmerged = logits(model);
      if (!adapter.mergeable()) {
        IllegalStateException refused =
            org.junit.jupiter.api.Assertions.assertThrows(
                IllegalStateException.class, adapter::merge);
        assertTrue(refused.getMessage().contains("cannot be merged"), refused.getMessage());
        assertArrayEquals(unmerged, logits(model), 0f, "unchanged by the refusal");
        return;
      }
      adapter.merge();
      assertClose(unmerged, logits(model), 1e-4, "merged");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("adapters")
  void aStepChangesOnlyAdapterTensors(String name, Supplier<Adapter> make) {
    Adapter adapter = make.get();
    try (LlamaModel model = load(adapter)) {
      perturb(adapter); // off the identity, so every tensor gets a gradient
      Map<String, float[]> weights = new HashMap<>();
      model.weights().forEach((n, t) -> weights.put(n, t.toFloatArray()));
      Map<String, float[]> before = new HashMap<>();
      adapter.parameters().forEach((n, t) -> before.put(n, t.toFloatArray()));
      TokenizedExample example =
          TokenizedExample.completion(new int[] {268, 65, 66}, new int[] {67, 269});
      SftSettings oneStep = new SftSettings(1e-2, 1, 1, 1, 0, 1.0, "constant", 0, 0, 0.0, 1, 0, 1);
      new SftRecipe(model, adapter.parameters(), oneStep)
          .train(List.of(example), List.of(), StepListener.NONE);
      model.weights().forEach((n, t) -> assertArrayEquals(weights.get(n), t.toFloatArray(), 0f, n));
      long moved =
          adapter.parameters().entrySet().stream()
              .filter(
                  e ->
                      !java.util.Arrays.equals(before.get(e.getKey()), e.getValue().toFloatArray()))
              .count();
      assertEquals(adapter.parameters().size(), moved, "every adapter tensor moved");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("adapters")
  void itsPeftDirectoryLoadsToTheSameLogits(String name, Supplier<Adapter> make, @TempDir Path out)
      throws Exception {
    Adapter adapter = make.get();
    float[] trained;
    try (LlamaModel model = load(adapter)) {
      perturb(adapter);
      trained = logits(model);
      adapter.save(out, "tiny");
    }
    try (NDManager staging = dev.tuneforge.llm.engine.Torch.engine().newBaseManager()) {
      Adapter read = PeftAdapters.load(out, staging);
      assertEquals(adapter.peftType(), read.peftType());
      try (LlamaModel loaded = load(read)) {
        assertArrayEquals(trained, logits(loaded), 0f);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("adapters")
  void stepsHoldAFlatNumberOfNativeArrays(String name, Supplier<Adapter> make) {
    Adapter adapter = make.get();
    try (LlamaModel model = load(adapter)) {
      List<Integer> counts = new ArrayList<>();
      java.util.Random random = new java.util.Random(1);
      List<TokenizedExample> examples = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        examples.add(
            TokenizedExample.completion(
                new int[] {268, 65 + random.nextInt(16), 65 + random.nextInt(16)},
                new int[] {65 + random.nextInt(16), 269}));
      }
      new SftRecipe(
              model,
              adapter.parameters(),
              new SftSettings(1e-3, 8, 2, 12, 0, 1.0, "linear", 0.1, 0, 0.01, 1, 0, 1))
          .train(
              examples,
              List.of(),
              p ->
                  counts.add(
                      ((ai.djl.ndarray.BaseNDManager) model.manager()).getManagedArrays().size()));
      assertEquals(counts.get(2), counts.get(counts.size() - 1), "arrays held: " + counts);
      assertTrue(counts.size() == 12, "" + counts);
    }
  }
}
