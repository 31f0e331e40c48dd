package dev.tuneforge.llm.adapter.prefix;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.adapter.PeftAdapters;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.model.LlamaConfig;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * PEFT prefix tuning (Li and Liang, 2021) on a causal LM: {@code num_virtual_tokens} keys and
 * values placed before every layer's own, the base untouched. The prefix is sized by the key/value
 * heads as peft sizes it for grouped-query models ({@code token_dim = num_key_value_heads *
 * head_dim}, {@code num_attention_heads = num_key_value_heads}), and stored as PEFT does: one
 * tensor {@code prompt_embeddings} (num_virtual_tokens, 2 * layers * token_dim) in float32, the
 * MLP's output when {@code prefix_projection} trained one.
 */
public final class PrefixTuningAdapter extends dev.tuneforge.llm.adapter.VirtualPositionsAdapter {
  public static final String PEFT_TYPE = "PREFIX_TUNING";
  public static final String TENSOR = "prompt_embeddings";

  private final PrefixTuningSettings settings;
  private final long seed;
  private final NDArray loaded;
  private Function<NDManager, NDArray> prefix;
  private LlamaConfig model;

  private PrefixTuningAdapter(PrefixTuningSettings settings, long seed, NDArray loaded) {
    this.settings = settings;
    this.seed = seed;
    this.loaded = loaded;
  }

  /**
   * A fresh adapter: embeddings standard normal (torch.nn.Embedding's init, PEFT's default), the
   * MLP's layers uniform in +-1/sqrt(fan_in) (torch.nn.Linear's), drawn from {@code seed}.
   */
  public static PrefixTuningAdapter create(PrefixTuningSettings settings, long seed) {
    return new PrefixTuningAdapter(settings, seed, null);
  }

  /** An adapter whose prefix comes from {@code tensors} (PEFT's {@code prompt_embeddings}). */
  public static PrefixTuningAdapter of(
      PrefixTuningSettings settings, Map<String, NDArray> tensors) {
    NDArray stored = tensors.get(TENSOR);
    if (stored == null || tensors.size() != 1) {
      throw new IllegalArgumentException(
          "a prefix tuning adapter holds exactly one tensor, "
              + TENSOR
              + ", but this one holds "
              + tensors.keySet());
    }
    return new PrefixTuningAdapter(settings, 0, stored);
  }

  public PrefixTuningSettings settings() {
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
      public Function<NDManager, NDArray> prefix(
          LlamaConfig config, NDManager manager, DataType computeType) {
        model = config;
        Function<NDManager, NDArray> built = build(config, manager, computeType);
        prefix = built;
        return scope -> enabled() ? built.apply(scope) : null;
      }
    };
  }

  /** PEFT's token_dim for prefix tuning: the key/value heads' width. */
  static long tokenDim(LlamaConfig config) {
    return (long) config.numKvHeads() * config.headDim();
  }

  private Function<NDManager, NDArray> build(LlamaConfig config, NDManager manager, DataType type) {
    long tokenDim = tokenDim(config);
    long width = 2L * config.numLayers() * tokenDim;
    int n = settings.numVirtualTokens();
    if (loaded != null) {
      Shape shape = new Shape(n, width);
      if (!loaded.getShape().equals(shape)) {
        throw new IllegalArgumentException(
            TENSOR
                + " has shape "
                + loaded.getShape()
                + " but "
                + n
                + " virtual tokens of this model need "
                + shape
                + " (2 x "
                + config.numLayers()
                + " layers x "
                + config.numKvHeads()
                + " key/value heads x head_dim "
                + config.headDim()
                + ")");
      }
      return trainable(TENSOR, loaded.toType(type, true), manager);
    }
    Random random = new Random(seed);
    if (!settings.prefixProjection()) {
      NDArray embedding = normal(random, new Shape(n, width), manager, type);
      return trainable(TENSOR, embedding, manager);
    }
    long hidden =
        settings.encoderHiddenSize() > 0 ? settings.encoderHiddenSize() : config.hiddenSize();
    NDArray embedding = normal(random, new Shape(n, tokenDim), manager, type);
    NDArray w1 = uniform(random, new Shape(hidden, tokenDim), tokenDim, manager, type);
    NDArray b1 = uniform(random, new Shape(hidden), tokenDim, manager, type);
    NDArray w2 = uniform(random, new Shape(width, hidden), hidden, manager, type);
    NDArray b2 = uniform(random, new Shape(width), hidden, manager, type);
    trainable("prefix_encoder.embedding.weight", embedding, manager);
    trainable("prefix_encoder.transform.0.weight", w1, manager);
    trainable("prefix_encoder.transform.0.bias", b1, manager);
    trainable("prefix_encoder.transform.2.weight", w2, manager);
    trainable("prefix_encoder.transform.2.bias", b2, manager);
    return scope -> {
      // Views in the call's scope, so the MLP's output and its graph belong to the call.
      NDArray x = view(embedding, scope);
      NDArray h =
          x.getNDArrayInternal()
              .linear(x, view(w1, scope), view(b1, scope))
              .singletonOrThrow()
              .tanh();
      return h.getNDArrayInternal().linear(h, view(w2, scope), view(b2, scope)).singletonOrThrow();
    };
  }

  private static NDArray view(NDArray owned, NDManager scope) {
    NDArray view = owned.reshape(owned.getShape());
    view.attach(scope);
    return view;
  }

  private Function<NDManager, NDArray> trainable(String name, NDArray tensor, NDManager manager) {
    tensor.attach(manager);
    tensor.setRequiresGradient(true);
    parameters.put(name, tensor);
    return scope -> tensor;
  }

  private static NDArray normal(Random random, Shape shape, NDManager manager, DataType type) {
    float[] values = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return manager.create(values, shape).toType(type, false);
  }

  private static NDArray uniform(
      Random random, Shape shape, long fanIn, NDManager manager, DataType type) {
    float bound = (float) (1 / Math.sqrt(fanIn));
    float[] values = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < values.length; i++) {
      values[i] = (random.nextFloat() * 2 - 1) * bound;
    }
    return manager.create(values, shape).toType(type, false);
  }

  @Override
  protected String whatItAdds() {
    return "keys and values";
  }

  @Override
  public void save(Path dir, String baseModelName) {
    if (prefix == null) {
      throw new IllegalStateException("the adapter was never attached to a model");
    }
    NDManager owner = parameters.values().iterator().next().getManager();
    try (NDManager scope = owner.newSubManager()) {
      // What PEFT saves: the prefix itself (get_prompt_embedding_to_save), the MLP's output.
      NDArray flat = Autograd.withGrad(false, () -> prefix.apply(scope));
      NDArray stored = flat.toType(DataType.FLOAT32, true);
      stored.attach(scope);
      PeftAdapters.write(dir, peftConfig(baseModelName), Map.of(TENSOR, stored));
    }
  }

  /** The adapter_config.json PEFT writes for a PrefixTuningConfig on a causal LM. */
  JsonObject peftConfig(String baseModelName) {
    JsonObject json = new JsonObject();
    json.addProperty("peft_type", PEFT_TYPE);
    json.addProperty("task_type", "CAUSAL_LM");
    json.addProperty("base_model_name_or_path", baseModelName);
    json.addProperty("num_virtual_tokens", settings.numVirtualTokens());
    json.addProperty("token_dim", tokenDim(model));
    json.addProperty("num_transformer_submodules", 1);
    json.addProperty("num_attention_heads", model.numKvHeads());
    json.addProperty("num_layers", model.numLayers());
    json.addProperty(
        "encoder_hidden_size",
        settings.encoderHiddenSize() > 0 ? settings.encoderHiddenSize() : model.hiddenSize());
    json.addProperty("prefix_projection", settings.prefixProjection());
    json.add("init_weights", null);
    json.add("modules_to_save", null);
    json.addProperty("inference_mode", true);
    json.add("revision", null);
    return json;
  }

  /**
   * The settings of a PEFT prefix tuning adapter_config.json. A saved prefix is the prefix itself
   * whether or not an MLP made it, so it is read as a prefix; prefix_projection and
   * encoder_hidden_size are kept for the record (a re-save writes them as read); a causal LM has
   * one transformer submodule.
   */
  public static PrefixTuningSettings settings(JsonObject config, Path file) {
    PeftAdapters.checkCausalPromptLearning(config, file, "prefix tuning");
    try {
      JsonElement projection = config.get("prefix_projection");
      boolean projected =
          projection != null && !projection.isJsonNull() && projection.getAsBoolean();
      JsonElement hidden = config.get("encoder_hidden_size");
      return new PrefixTuningSettings(
          config.get("num_virtual_tokens").getAsInt(),
          projected,
          projected && hidden != null && !hidden.isJsonNull() ? hidden.getAsInt() : 0);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }
}
