package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.adapter.Adapter;
import dev.tuneforge.llm.adapter.PeftAdapters;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.WeightNames;
import dev.tuneforge.llm.tokenizer.TokenizerFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reward model saved as PEFT saves a sequence-classification adapter ({@code task_type SEQ_CLS},
 * what {@code get_peft_model(AutoModelForSequenceClassification..., config)} writes): the adapter's
 * own tensors, and the score head as a module to save ({@code modules_to_save} gains {@code
 * classifier} and {@code score}, as PEFT's {@code PeftModelForSequenceClassification} adds them).
 * The form for adapters that cannot be merged into the backbone: prompt and prefix tuning, and any
 * adapter over an NF4 base (QLoRA), which is read back over the base in its own precision, as peft
 * users apply a QLoRA adapter for inference.
 *
 * <p>The head's key is the score module's path in the PEFT model: {@code base_model.score.weight}
 * for prompt learning (the transformers model is the PEFT model's base), {@code
 * base_model.model.score.weight} for the tuners that wrap it (LoRA, IA3, AdaLoRA).
 */
public final class RewardAdapter {
  private static final List<String> CLASSIFIER_MODULES = List.of("classifier", "score");

  private RewardAdapter() {}

  /** Whether {@code dir} holds a PEFT adapter (else a whole sequence-classification model). */
  public static boolean isAdapter(Path dir) {
    return Files.isRegularFile(dir.resolve(PeftAdapters.CONFIG_FILE));
  }

  /** The base the adapter of {@code dir} was trained on, as its config names it. */
  public static String baseName(Path dir) {
    JsonElement base = PeftAdapters.config(dir).get("base_model_name_or_path");
    if (base == null || base.isJsonNull() || base.getAsString().isEmpty()) {
      throw new IllegalArgumentException(
          dir.resolve(PeftAdapters.CONFIG_FILE) + " names no base_model_name_or_path");
    }
    return base.getAsString();
  }

  /** The score head's key in the adapter file of a {@code peftType} adapter. */
  static String scoreKey(String peftType) {
    boolean promptLearning = peftType.equals("PROMPT_TUNING") || peftType.equals("PREFIX_TUNING");
    return (promptLearning ? "base_model." : "base_model.model.") + RewardModel.SCORE;
  }

  /**
   * Writes {@code model}, trained with {@code adapter} on its backbone, to {@code dir} as a PEFT
   * sequence-classification adapter over {@code baseModelName}, with the tokenizer files of {@code
   * tokenizerFrom}.
   */
  public static void save(
      RewardModel model, Adapter adapter, Path dir, String baseModelName, Path tokenizerFrom) {
    adapter.setTraining(false);
    adapter.save(dir, baseModelName);
    JsonObject config = PeftAdapters.config(dir);
    config.addProperty("task_type", PeftAdapters.SEQ_CLS);
    JsonArray modules = new JsonArray();
    JsonElement given = config.get("modules_to_save");
    if (given != null && given.isJsonArray()) {
      modules.addAll(given.getAsJsonArray());
    }
    for (String name : CLASSIFIER_MODULES) {
      if (!modules.contains(new com.google.gson.JsonPrimitive(name))) {
        modules.add(name);
      }
    }
    config.add("modules_to_save", modules);
    try (NDManager scope = model.backbone().manager().newSubManager()) {
      Map<String, NDArray> tensors = new LinkedHashMap<>(PeftAdapters.tensors(dir, scope));
      NDArray head = model.head().duplicate();
      head.attach(scope);
      tensors.put(scoreKey(adapter.peftType()), head);
      PeftAdapters.write(dir, config, tensors);
    }
    TokenizerFiles.copy(tokenizerFrom, dir);
  }

  /**
   * The reward model a PEFT sequence-classification adapter in {@code adapterDir} makes over the
   * causal LM in {@code baseDir}; refused by name when the adapter is not one or has no score head.
   */
  public static RewardModel load(Path adapterDir, Path baseDir, Compute compute) {
    JsonObject config = PeftAdapters.config(adapterDir);
    Path file = adapterDir.resolve(PeftAdapters.CONFIG_FILE);
    if (!PeftAdapters.SEQ_CLS.equals(PeftAdapters.taskType(config))) {
      throw new IllegalArgumentException(
          file
              + ": task_type \""
              + PeftAdapters.taskType(config)
              + "\" is not a reward model's; a sequence-classification adapter has SEQ_CLS");
    }
    String type = config.get("peft_type").getAsString();
    String key = scoreKey(type);
    try (NDManager staging = Torch.engine().newBaseManager()) {
      Map<String, NDArray> tensors = new LinkedHashMap<>(PeftAdapters.tensors(adapterDir, staging));
      NDArray saved = tensors.remove(key);
      if (saved == null) {
        throw new IllegalArgumentException(
            adapterDir.resolve(PeftAdapters.WEIGHTS_FILE)
                + " has no "
                + key
                + ": a reward model's adapter saves its score head with it");
      }
      // The adapter as it acts on the backbone: the classifier modules are the head's, read above.
      JsonObject causal = config.deepCopy();
      causal.addProperty("task_type", "CAUSAL_LM");
      JsonArray rest = new JsonArray();
      JsonElement modules = config.get("modules_to_save");
      if (modules != null && modules.isJsonArray()) {
        for (JsonElement m : modules.getAsJsonArray()) {
          if (!CLASSIFIER_MODULES.contains(m.getAsString())) {
            rest.add(m);
          }
        }
      }
      if (rest.isEmpty()) {
        causal.add("modules_to_save", com.google.gson.JsonNull.INSTANCE);
      } else {
        causal.add("modules_to_save", rest);
      }
      Adapter adapter = PeftAdapters.of(causal, file, tensors);
      adapter.setTraining(false);
      LlamaModel backbone =
          LlamaModel.load(
              baseDir, compute, adapter.projections(LlamaModel.inferenceProjections(baseDir)));
      try {
        int hidden = backbone.config().hiddenSize();
        if (!saved.getShape().equals(new ai.djl.ndarray.types.Shape(1, hidden))) {
          throw new IllegalArgumentException(
              adapterDir.resolve(PeftAdapters.WEIGHTS_FILE)
                  + ": "
                  + key
                  + " has shape "
                  + saved.getShape()
                  + "; a reward model over "
                  + baseDir
                  + " needs (1, "
                  + hidden
                  + ")");
        }
        NDArray head =
            backbone
                .manager()
                .create(saved.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray())
                .reshape(1, hidden)
                .toType(backbone.weights().get(WeightNames.EMBED_TOKENS).getDataType(), false);
        return new RewardModel(backbone, head);
      } catch (RuntimeException e) {
        backbone.close();
        throw e;
      }
    }
  }
}
