package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.checkpoint.Safetensors;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.model.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TuneForge and Python's peft read each other's adapter files and compute the same model, checked
 * against real peft (0.21.0 on torch 2.14.1; {@code tools/reference/peft_interop.sh}):
 *
 * <ul>
 *   <li>{@code tuneforge-<method>/}: trained and saved by {@code ./tuneforge train}; its {@code
 *       expected.json} holds the log-probs peft computes after {@code PeftModel.from_pretrained} of
 *       the directory, so peft loaded it and agrees with TuneForge's forward;
 *   <li>{@code peft-<method>/}: written by peft's {@code save_pretrained}, with peft's log-probs.
 * </ul>
 *
 * LoRA (all-linear; DoRA; gaussian init with rsLoRA and lora_only bias), IA3, prompt tuning, prefix
 * tuning with and without its projection, and AdaLoRA (with the rank_pattern TuneForge saves after
 * its allocation). The Java writer is held to the committed files too: re-saving each TuneForge
 * adapter gives the same config and tensors, so peft loads what the writer writes today.
 */
public class PeftInteropTest {
  static final Path DIR = Path.of("src/test/resources/reference/peft-interop");
  static final double TOLERANCE = 1e-4;

  static Stream<String> adapters() throws Exception {
    try (Stream<Path> dirs = Files.list(DIR)) {
      return dirs
          .map(d -> d.getFileName().toString())
          .filter(n -> n.startsWith("tuneforge-") || n.startsWith("peft-"))
          .sorted()
          .toList()
          .stream();
    }
  }

  @Test
  void everyMethodIsCheckedBothWays() throws Exception {
    List<String> names = adapters().toList();
    for (String method :
        List.of(
            "lora",
            "dora",
            "lora-gaussian-bias",
            "ia3",
            "prompt",
            "prefix",
            "prefix-projection",
            "adalora")) {
      assertTrue(names.contains("tuneforge-" + method), "peft reads TuneForge's " + method);
      assertTrue(names.contains("peft-" + method), "TuneForge reads peft's " + method);
    }
  }

  /** The largest difference between {@code model}'s log-probs and those in {@code expected}. */
  public static double largestDifference(LlamaModel model, JsonObject expected) {
    JsonArray sequences = expected.getAsJsonArray("sequences");
    JsonArray logprobs = expected.getAsJsonArray("logprobs");
    double worst = 0;
    for (int s = 0; s < sequences.size(); s++) {
      JsonArray sequence = sequences.get(s).getAsJsonArray();
      long[] ids = new long[sequence.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = sequence.get(i).getAsLong();
      }
      try (NDManager scope = model.manager().newSubManager()) {
        NDArray logits = model.forward(scope.create(ids, new Shape(1, ids.length)), null, null);
        float[] lse = logits.logSoftmax(-1).toFloatArray();
        int vocab = (int) logits.getShape().get(2);
        JsonArray want = logprobs.get(s).getAsJsonArray();
        for (int t = 1; t < ids.length; t++) {
          double ours = lse[(t - 1) * vocab + (int) ids[t]];
          worst = Math.max(worst, Math.abs(ours - want.get(t).getAsDouble()));
        }
      }
    }
    return worst;
  }

  /**
   * TuneForge's model with the adapter gives peft's log-probs within 1e-4, and the adapter matters:
   * the base alone is more than 100 times that away from them.
   */
  @ParameterizedTest
  @MethodSource("adapters")
  void theAdapterGivesPeftsLogProbs(String name) throws Exception {
    Path adapterDir = DIR.resolve(name);
    JsonObject expected =
        JsonParser.parseString(Files.readString(adapterDir.resolve("expected.json")))
            .getAsJsonObject();
    double worst;
    try (LlamaModel model =
        PeftAdapters.loadOnto(DIR.resolve("base"), adapterDir, Compute.CPU_FLOAT32)) {
      worst = largestDifference(model, expected);
    }
    double base;
    try (LlamaModel model =
        LlamaModel.load(
            DIR.resolve("base"), Compute.CPU_FLOAT32, dev.tuneforge.llm.model.Projections.DENSE)) {
      base = largestDifference(model, expected);
    }
    System.out.printf(
        "peft interop %s: largest |log-prob difference| %.2e (the base alone: %.3f)%n",
        name, worst, base);
    assertTrue(worst <= TOLERANCE, name + ": largest log-prob difference from peft " + worst);
    assertTrue(base > 100 * TOLERANCE, name + ": the adapter barely acts (" + base + ")");
  }

  /** Loading a TuneForge adapter and saving it again writes what peft was checked on. */
  @ParameterizedTest
  @MethodSource("adapters")
  void theWriterStillWritesWhatPeftRead(String name, @TempDir Path out) throws Exception {
    if (!name.startsWith("tuneforge-")) {
      return;
    }
    Path adapterDir = DIR.resolve(name);
    try (NDManager staging = Torch.engine().newBaseManager()) {
      Adapter adapter = PeftAdapters.load(adapterDir, staging);
      try (LlamaModel model =
          LlamaModel.load(
              DIR.resolve("base"),
              Compute.CPU_FLOAT32,
              adapter.projections(LlamaModel.inferenceProjections(DIR.resolve("base"))))) {
        adapter.save(out, "base");
      }
    }
    JsonObject committed = config(adapterDir);
    JsonObject written = config(out);
    committed.remove("base_model_name_or_path");
    written.remove("base_model_name_or_path");
    assertEquals(committed, written, name + ": adapter_config.json");
    var before = Safetensors.readHeader(adapterDir.resolve(PeftAdapters.WEIGHTS_FILE));
    var after = Safetensors.readHeader(out.resolve(PeftAdapters.WEIGHTS_FILE));
    assertEquals(before.tensors().keySet(), after.tensors().keySet(), name + ": tensor names");
    for (Map.Entry<String, ?> e : before.tensors().entrySet()) {
      assertArrayEquals(
          before.tensors().get(e.getKey()).shape(),
          after.tensors().get(e.getKey()).shape(),
          name + ": " + e.getKey());
    }
    assertArrayEquals(
        Files.readAllBytes(adapterDir.resolve(PeftAdapters.WEIGHTS_FILE)),
        Files.readAllBytes(out.resolve(PeftAdapters.WEIGHTS_FILE)),
        name + ": the tensors, byte for byte");
  }

  private static JsonObject config(Path dir) throws Exception {
    return JsonParser.parseString(Files.readString(dir.resolve(PeftAdapters.CONFIG_FILE)))
        .getAsJsonObject();
  }
}
