package dev.tuneforge.llm.adapter.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.adapter.PeftAdapters;
import dev.tuneforge.llm.model.LlamaConfig;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * PEFT prompt tuning (Lester et al., 2021) on a causal LM: {@code num_virtual_tokens} trained
 * embeddings placed before every sequence, the base model untouched. Stored as PEFT does: one
 * tensor {@code prompt_embeddings} (num_virtual_tokens, hidden_size) in float32.
 */
public final class PromptTuningAdapter extends dev.tuneforge.llm.adapter.VirtualPositionsAdapter {
  public static final String PEFT_TYPE = "PROMPT_TUNING";
  public static final String TENSOR = "prompt_embeddings";

  private final PromptTuningSettings settings;
  private final int[] initIds;
  private final long seed;
  private final NDArray loaded;
  private NDArray prompt;
  private LlamaConfig model;

  private PromptTuningAdapter(
      PromptTuningSettings settings, int[] initIds, long seed, NDArray loaded) {
    this.settings = settings;
    this.initIds = initIds;
    this.seed = seed;
    this.loaded = loaded;
  }

  /**
   * A fresh adapter.
   *
   * @param textIds the token ids of {@code prompt_tuning_init_text} (the tokenizer's encoding, with
   *     the special tokens it adds, as PEFT's {@code tokenizer(text)}); null unless TEXT
   * @param seed RANDOM's normal draws and SAMPLE_VOCAB's token choice
   */
  public static PromptTuningAdapter create(
      PromptTuningSettings settings, int[] textIds, long seed) {
    if (settings.init().equals("TEXT") && textIds == null) {
      throw new IllegalArgumentException("prompt_tuning_init TEXT needs the init text's token ids");
    }
    return new PromptTuningAdapter(
        settings, settings.init().equals("TEXT") ? settings.initIds(textIds) : null, seed, null);
  }

  /** An adapter whose embeddings come from {@code tensors} (PEFT's {@code prompt_embeddings}). */
  public static PromptTuningAdapter of(
      PromptTuningSettings settings, Map<String, NDArray> tensors) {
    NDArray stored = tensors.get(TENSOR);
    if (stored == null || tensors.size() != 1) {
      throw new IllegalArgumentException(
          "a prompt tuning adapter holds exactly one tensor, "
              + TENSOR
              + ", but this one holds "
              + tensors.keySet());
    }
    return new PromptTuningAdapter(settings, null, 0, stored);
  }

  public PromptTuningSettings settings() {
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
      public Supplier<NDArray> virtualTokens(LlamaConfig config, NDArray embedding) {
        model = config;
        prompt = build(embedding);
        prompt.setRequiresGradient(true);
        parameters.put(TENSOR, prompt);
        return () -> enabled() ? prompt : null;
      }
    };
  }

  /** The embeddings, in the model's compute type and owned by its manager. */
  private NDArray build(NDArray embedding) {
    NDManager manager = embedding.getManager();
    long hidden = embedding.getShape().get(1);
    Shape shape = new Shape(settings.numVirtualTokens(), hidden);
    DataType type = embedding.getDataType();
    if (loaded != null) {
      if (!loaded.getShape().equals(shape)) {
        throw new IllegalArgumentException(
            TENSOR
                + " has shape "
                + loaded.getShape()
                + " but "
                + settings.numVirtualTokens()
                + " virtual tokens of this model need "
                + shape);
      }
      NDArray copy = loaded.toType(type, true);
      copy.attach(manager);
      return copy;
    }
    Random random = new Random(seed);
    return switch (settings.init()) {
      case "RANDOM" -> {
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) random.nextGaussian();
        }
        yield manager.create(values, shape).toType(type, false);
      }
      case "TEXT" -> rows(embedding, initIds);
      default -> {
        int[] ids = new int[settings.numVirtualTokens()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = random.nextInt(Math.toIntExact(embedding.getShape().get(0)));
        }
        yield rows(embedding, ids);
      }
    };
  }

  /** Copies of the embedding rows of {@code ids}. */
  private static NDArray rows(NDArray embedding, int[] ids) {
    long vocab = embedding.getShape().get(0);
    for (int id : ids) {
      if (id < 0 || id >= vocab) {
        throw new IllegalArgumentException(
            "init token id " + id + " is outside the vocabulary of " + vocab);
      }
    }
    NDManager manager = embedding.getManager();
    NDArray index = manager.create(ids).toType(DataType.INT64, false);
    NDArray picked =
        embedding
            .getNDArrayInternal()
            .embedding(index, embedding, SparseFormat.DENSE)
            .singletonOrThrow();
    NDArray copy = picked.stopGradient();
    index.close();
    return copy;
  }

  @Override
  protected String whatItAdds() {
    return "virtual tokens";
  }

  @Override
  public void save(Path dir, String baseModelName) {
    if (prompt == null) {
      throw new IllegalStateException("the adapter was never attached to a model");
    }
    try (NDManager scope = prompt.getManager().newSubManager()) {
      NDArray stored = prompt.toType(DataType.FLOAT32, true);
      stored.attach(scope);
      PeftAdapters.write(
          dir, peftConfig(baseModelName, prompt.getShape().get(1)), Map.of(TENSOR, stored));
    }
  }

  /** The adapter_config.json PEFT writes for a PromptTuningConfig on a causal LM. */
  JsonObject peftConfig(String baseModelName, long tokenDim) {
    JsonObject json = new JsonObject();
    json.addProperty("peft_type", PEFT_TYPE);
    json.addProperty("task_type", "CAUSAL_LM");
    json.addProperty("base_model_name_or_path", baseModelName);
    json.addProperty("num_virtual_tokens", settings.numVirtualTokens());
    json.addProperty("token_dim", tokenDim);
    json.addProperty("num_transformer_submodules", 1);
    json.addProperty("num_attention_heads", model.numHeads());
    json.addProperty("num_layers", model.numLayers());
    json.addProperty("prompt_tuning_init", settings.init());
    json.addProperty("prompt_tuning_init_text", settings.initText());
    json.addProperty("tokenizer_name_or_path", settings.tokenizerNameOrPath());
    json.add("tokenizer_kwargs", null);
    json.add("modules_to_save", null);
    json.addProperty("inference_mode", true);
    json.add("revision", null);
    return json;
  }

  /**
   * The settings of a PEFT prompt tuning adapter_config.json; a causal LM has one transformer
   * submodule, and what TuneForge does not implement (modules_to_save) is refused by name.
   */
  public static PromptTuningSettings settings(JsonObject config, Path file) {
    PeftAdapters.checkCausalPromptLearning(config, file, "prompt tuning");
    try {
      String init = string(config, "prompt_tuning_init", "RANDOM");
      return new PromptTuningSettings(
          config.get("num_virtual_tokens").getAsInt(),
          init,
          init.equals("TEXT") ? string(config, "prompt_tuning_init_text", null) : null,
          string(config, "tokenizer_name_or_path", null));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static String string(JsonObject config, String key, String fallback) {
    JsonElement value = config.get(key);
    return value == null || value.isJsonNull() ? fallback : value.getAsString();
  }
}
