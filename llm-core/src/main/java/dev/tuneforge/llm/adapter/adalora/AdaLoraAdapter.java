package dev.tuneforge.llm.adapter.adalora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.adapter.Adapter;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.PeftAdapters;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.model.Linear;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.StoredWeight;
import dev.tuneforge.llm.model.WeightNames;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * An AdaLoRA adapter over a Llama model: an {@link SvdLinear} on every targeted projection, its
 * tensors under PEFT's names ({@code base_model.model.model.layers.0.self_attn.q_proj.lora_A} (r,
 * in), {@code .lora_E} (r, 1), {@code .lora_B} (out, r)), saved as PEFT saves them: each module cut
 * to the ranks its {@code rank_pattern} keeps, {@code ranknum} (init_r) not stored.
 */
public final class AdaLoraAdapter implements Adapter {
  public static final String PEFT_TYPE = "ADALORA";

  private final AdaLoraSettings settings;
  private final Map<String, NDArray> loaded;
  private final Random random;
  private final Map<String, SvdLinear> layers = new LinkedHashMap<>();
  private final Map<String, NDArray> parameters = new LinkedHashMap<>();
  private Map<String, List<Boolean>> rankPattern;

  /** What the adapter file's tensor names put before the base model's parameter names. */
  private static final String FILE_PREFIX = "base_model.model.";

  private AdaLoraAdapter(AdaLoraSettings settings, Map<String, NDArray> loaded, long seed) {
    this.settings = settings;
    this.loaded = loaded;
    this.random = new Random(seed);
    this.rankPattern = new LinkedHashMap<>(settings.rankPattern());
  }

  /** A fresh adapter: E = 0 (so the model is its base), A and B ~ N(0, 0.02), PEFT's init. */
  public static AdaLoraAdapter create(AdaLoraSettings settings, long seed) {
    return new AdaLoraAdapter(settings, null, seed);
  }

  /** An adapter whose tensors come from {@code tensors} (PEFT names, cut by rank_pattern). */
  public static AdaLoraAdapter of(AdaLoraSettings settings, Map<String, NDArray> tensors) {
    return new AdaLoraAdapter(settings, tensors, 0);
  }

  public AdaLoraSettings settings() {
    return settings;
  }

  @Override
  public String peftType() {
    return PEFT_TYPE;
  }

  @Override
  public Projections projections(Projections base) {
    return new dev.tuneforge.llm.adapter.DelegatingProjections(base) {
      @Override
      public Linear create(int layer, String module, StoredWeight weight, NDArray bias) {
        return adapt(base, layer, module, weight, bias);
      }
    };
  }

  private boolean targets(String module) {
    String last = module.substring(module.lastIndexOf('.') + 1);
    return settings.targetModules().contains(last);
  }

  private Linear adapt(
      Projections base, int layer, String module, StoredWeight weight, NDArray bias) {
    Linear dense = base.create(layer, module, weight, bias);
    if (!targets(module)) {
      return dense;
    }
    String name = LoraAdapter.PEFT_PREFIX + WeightNames.layer(layer) + module;
    long out = weight.shape().get(0);
    long in = weight.shape().get(1);
    NDManager manager = weight.manager();
    DataType type = weight.dataType();
    NDArray a;
    NDArray e;
    NDArray b;
    if (loaded != null) {
      List<Boolean> kept = rankPattern.get(name + ".lora_E");
      long rank = kept == null ? settings.initR() : kept.stream().filter(k -> k).count();
      a = stored(name + ".lora_A", new Shape(rank, in), manager, type);
      e = stored(name + ".lora_E", new Shape(rank, 1), manager, type);
      b = stored(name + ".lora_B", new Shape(out, rank), manager, type);
    } else {
      int r = settings.initR();
      a = normal(new Shape(r, in), 0.02, manager, type);
      e = manager.zeros(new Shape(r, 1), type);
      b = normal(new Shape(out, r), 0.02, manager, type);
    }
    for (NDArray p : new NDArray[] {a, e, b}) {
      p.setRequiresGradient(true);
    }
    // ranknum is init_r whatever rank survives pruning (PEFT keeps it when it resizes a module).
    NDArray factor =
        manager
            .full(new Shape(), (float) (settings.scaling() / (settings.initR() + 1e-5)))
            .toType(type, false);
    SvdLinear svd = new SvdLinear(dense, a, e, b, factor, (float) settings.loraDropout());
    layers.put(name, svd);
    parameters.put(name + ".lora_A", a);
    parameters.put(name + ".lora_E", e);
    parameters.put(name + ".lora_B", b);
    return svd;
  }

  private NDArray stored(String name, Shape shape, NDManager manager, DataType type) {
    NDArray tensor = loaded.get(name);
    if (tensor == null || !tensor.getShape().equals(shape)) {
      throw new IllegalArgumentException(
          "adapter has no tensor "
              + name
              + " "
              + shape
              + (tensor == null ? "" : " (found " + tensor.getShape() + ")")
              + "; rank_pattern gives each module's kept rank");
    }
    NDArray copy = tensor.toType(type, true);
    copy.attach(manager);
    return copy;
  }

  private NDArray normal(Shape shape, double std, NDManager manager, DataType type) {
    float[] values = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * std);
    }
    return manager.create(values, shape).toType(type, false);
  }

  @Override
  public Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(parameters);
  }

  /** The kept ranks by lora_E name, once ranks were allocated (empty before). */
  public Map<String, List<Boolean>> rankPattern() {
    return Collections.unmodifiableMap(rankPattern);
  }

  void setRankPattern(Map<String, List<Boolean>> pattern) {
    this.rankPattern = new LinkedHashMap<>(pattern);
  }

  private RankAllocator allocator;

  @Override
  public java.util.Optional<TrainingHooks> trainingHooks() {
    return java.util.Optional.of(
        new TrainingHooks() {
          @Override
          public void start(long totalSteps) {
            allocator = new RankAllocator(settings, List.copyOf(layers.keySet()), totalSteps);
          }

          @Override
          public double penalty(NDManager scope, float scale) {
            return orthogonalityPenalty(scope, scale);
          }

          @Override
          public void afterUpdate(
              long step, Map<String, NDArray> updated, Map<String, float[]> gradients) {
            allocate(step, updated, gradients);
          }

          @Override
          public Map<String, float[]> state() {
            return allocator.state();
          }

          @Override
          public void restore(Map<String, float[]> state) {
            allocator.restore(state);
            rankPattern = new LinkedHashMap<>(allocator.rankPattern());
          }
        });
  }

  /**
   * PEFT's orthogonality regularization: {@code orth_reg_weight} times the mean over every A and B
   * of {@code ||P P^T - I||_F} (A) and {@code ||P^T P - I||_F} (B), backpropagated with {@code
   * scale}.
   */
  double orthogonalityPenalty(NDManager scope, float scale) {
    if (settings.orthRegWeight() == 0 || layers.isEmpty()) {
      return 0;
    }
    return Autograd.withGrad(
        true,
        () -> {
          NDArray total = null;
          int count = 0;
          for (String module : layers.keySet()) {
            for (String part : new String[] {".lora_A", ".lora_B"}) {
              NDArray p = parameters.get(module + part);
              NDArray view = p.reshape(p.getShape());
              view.attach(scope);
              NDArray cov =
                  part.equals(".lora_A")
                      ? view.matMul(view.transpose())
                      : view.transpose().matMul(view);
              NDArray eye =
                  scope
                      .eye(Math.toIntExact(cov.getShape().get(0)))
                      .toType(cov.getDataType(), false);
              NDArray norm = cov.sub(eye).square().sum().sqrt();
              total = total == null ? norm : total.add(norm);
              count++;
            }
          }
          NDArray penalty = total.div(count).mul((float) settings.orthRegWeight());
          double value = penalty.toType(DataType.FLOAT32, false).getFloat(); // fp16 too
          Autograd.backward(penalty.mul(scale));
          return value;
        });
  }

  /**
   * The allocation after optimizer step {@code step}: reads this adapter's tensors from {@code
   * updated} (float32: the parameters, or their masters under fp16), masks lora_E there in place
   * and keeps the pattern.
   */
  void allocate(long step, Map<String, NDArray> updated, Map<String, float[]> gradients) {
    if (allocator == null) {
      throw new IllegalStateException("AdaLoRA's training hooks were not started");
    }
    Map<String, float[]> values = new LinkedHashMap<>();
    for (String name : parameters.keySet()) {
      NDArray tensor = updated.get(name);
      if (tensor == null || tensor.getDataType() != DataType.FLOAT32) {
        throw new IllegalArgumentException(
            "AdaLoRA's allocation needs the float32 tensor the optimizer updated for "
                + name
                + ", but got "
                + (tensor == null ? "none" : tensor.getDataType()));
      }
      values.put(name, tensor.toFloatArray());
    }
    Map<String, List<Boolean>> pattern = allocator.step(step, values, gradients);
    if (pattern != null) {
      rankPattern = new LinkedHashMap<>(pattern);
    }
    Autograd.withGrad(
        false,
        () -> {
          for (String module : layers.keySet()) {
            NDArray e = updated.get(module + ".lora_E");
            e.set(java.nio.FloatBuffer.wrap(values.get(module + ".lora_E")));
          }
          return null;
        });
  }

  @Override
  public void setTraining(boolean training) {
    layers.values().forEach(l -> l.setTraining(training));
  }

  @Override
  public void setEnabled(boolean enabled) {
    layers.values().forEach(l -> l.setEnabled(enabled));
  }

  @Override
  public void merge() {
    layers.values().forEach(SvdLinear::checkMergeable);
    layers.values().forEach(SvdLinear::merge);
  }

  @Override
  public void save(Path dir, String baseModelName) {
    NDManager owner = parameters.values().iterator().next().getManager();
    try (NDManager scope = owner.newSubManager()) {
      Map<String, NDArray> out = new LinkedHashMap<>();
      Autograd.withGrad(
          false,
          () -> {
            for (String module : layers.keySet()) {
              List<Boolean> kept = rankPattern.get(module + ".lora_E");
              for (String part : new String[] {".lora_A", ".lora_E", ".lora_B"}) {
                NDArray tensor = parameters.get(module + part);
                out.put(module + part, cut(tensor, kept, part.equals(".lora_B"), scope));
              }
            }
            return null;
          });
      PeftAdapters.write(dir, peftConfig(baseModelName), out);
    }
  }

  /** {@code tensor}'s kept ranks (rows of A and E, columns of B) in float32, in {@code scope}. */
  private static NDArray cut(NDArray tensor, List<Boolean> kept, boolean columns, NDManager scope) {
    NDArray copy = tensor.toType(DataType.FLOAT32, true);
    copy.attach(scope);
    if (kept == null || kept.stream().allMatch(k -> k) || kept.size() != ranks(copy, columns)) {
      return copy;
    }
    List<Long> indices = new ArrayList<>();
    for (int i = 0; i < kept.size(); i++) {
      if (kept.get(i)) {
        indices.add((long) i);
      }
    }
    NDArray picked = scope.create(indices.stream().mapToLong(Long::longValue).toArray());
    return columns ? copy.transpose().get(picked).transpose() : copy.get(picked);
  }

  private static long ranks(NDArray tensor, boolean columns) {
    return tensor.getShape().get(columns ? 1 : 0);
  }

  /** The adapter_config.json PEFT writes for an AdaLoraConfig. */
  JsonObject peftConfig(String baseModelName) {
    JsonObject json = new JsonObject();
    json.addProperty("peft_type", PEFT_TYPE);
    json.addProperty("task_type", "CAUSAL_LM");
    json.addProperty("base_model_name_or_path", baseModelName);
    json.addProperty("init_r", settings.initR());
    json.addProperty("target_r", settings.targetR());
    json.addProperty("tinit", settings.tinit());
    json.addProperty("tfinal", settings.tfinal());
    json.addProperty("deltaT", settings.deltaT());
    json.addProperty("beta1", settings.beta1());
    json.addProperty("beta2", settings.beta2());
    json.addProperty("orth_reg_weight", settings.orthRegWeight());
    // The run's steps when the settings left it to the run: peft refuses a config without it.
    json.addProperty(
        "total_step", allocator != null ? allocator.totalStep() : settings.totalStep());
    json.addProperty("r", 8);
    json.addProperty("lora_alpha", settings.loraAlpha());
    json.addProperty("lora_dropout", settings.loraDropout());
    JsonArray targets = new JsonArray();
    settings.targetModules().forEach(targets::add);
    json.add("target_modules", targets);
    json.addProperty("bias", "none");
    json.addProperty("fan_in_fan_out", false);
    json.addProperty("init_lora_weights", true);
    json.add("modules_to_save", null);
    if (rankPattern.isEmpty()) {
      json.add("rank_pattern", null);
    } else {
      // peft keys rank_pattern by the base model's parameter names (model.layers.0.self_attn.
      // q_proj.lora_E), not by the adapter file's (base_model.model.model.layers...).
      JsonObject pattern = new JsonObject();
      rankPattern.forEach(
          (name, kept) -> {
            JsonArray flags = new JsonArray();
            kept.forEach(flags::add);
            pattern.add(
                name.startsWith(FILE_PREFIX) ? name.substring(FILE_PREFIX.length()) : name, flags);
          });
      json.add("rank_pattern", pattern);
    }
    json.addProperty("inference_mode", true);
    json.add("revision", null);
    return json;
  }

  /**
   * The settings of a PEFT AdaLoRA adapter_config.json; what TuneForge does not implement
   * (fan_in_fan_out, modules_to_save, a bias, a regular-expression target) is refused by name.
   */
  public static AdaLoraSettings settings(JsonObject config, Path file) {
    refuse(config, file, "fan_in_fan_out", v -> v.isJsonPrimitive() && v.getAsBoolean());
    refuse(config, file, "modules_to_save", PeftAdapters::nonEmpty);
    refuse(config, file, "bias", v -> !v.getAsString().equals("none"));
    refuse(config, file, "target_modules", v -> !v.isJsonArray());
    try {
      List<String> targets = new ArrayList<>();
      JsonElement modules = config.get("target_modules");
      if (modules != null && !modules.isJsonNull()) {
        modules.getAsJsonArray().forEach(m -> targets.add(m.getAsString()));
      }
      Map<String, List<Boolean>> pattern = new LinkedHashMap<>();
      JsonElement saved = config.get("rank_pattern");
      if (saved != null && saved.isJsonObject()) {
        for (Map.Entry<String, JsonElement> entry : saved.getAsJsonObject().entrySet()) {
          List<Boolean> kept = new ArrayList<>();
          entry.getValue().getAsJsonArray().forEach(k -> kept.add(k.getAsBoolean()));
          // peft's keys name base-model parameters; TuneForge before 0.1 wrote file names
          String key = entry.getKey();
          pattern.put(key.startsWith(FILE_PREFIX) ? key : FILE_PREFIX + key, kept);
        }
      }
      return new AdaLoraSettings(
          integer(config, "init_r", 12),
          integer(config, "target_r", 8),
          integer(config, "tinit", 0),
          integer(config, "tfinal", 0),
          integer(config, "deltaT", 1),
          number(config, "beta1", 0.85),
          number(config, "beta2", 0.85),
          number(config, "orth_reg_weight", 0.5),
          (long) number(config, "total_step", 0),
          number(config, "lora_alpha", 8),
          number(config, "lora_dropout", 0),
          targets.isEmpty() ? AdaLoraSettings.DEFAULT_TARGETS : targets,
          pattern);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static int integer(JsonObject config, String key, int fallback) {
    JsonElement value = config.get(key);
    return value == null || value.isJsonNull() ? fallback : value.getAsInt();
  }

  private static double number(JsonObject config, String key, double fallback) {
    JsonElement value = config.get(key);
    return value == null || value.isJsonNull() ? fallback : value.getAsDouble();
  }

  private static void refuse(
      JsonObject config, Path file, String key, java.util.function.Predicate<JsonElement> set) {
    PeftAdapters.refuse(config, file, "AdaLoRA", key, set);
  }
}
