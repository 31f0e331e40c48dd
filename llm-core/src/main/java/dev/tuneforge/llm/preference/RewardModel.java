package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.checkpoint.HfCheckpoint;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.model.WeightNames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A reward model in Hugging Face's {@code LlamaForSequenceClassification} layout with {@code
 * num_labels = 1}: the Llama backbone and a bias-free linear head {@code score.weight} (1, hidden).
 * The reward of a sequence is the head's output at its last real token, found from the attention
 * mask, so left- and right-padded batches score alike.
 */
public final class RewardModel implements AutoCloseable {
  /** The head's tensor name in a sequence-classification checkpoint. */
  public static final String SCORE = "score.weight";

  private final LlamaModel backbone;
  private final NDArray score;
  private final int padId;

  RewardModel(LlamaModel backbone, NDArray score) {
    this.backbone = backbone;
    this.score = score;
    this.padId = Math.max(backbone.config().padTokenId(), 0);
  }

  /**
   * A new reward model over a causal LM (usually the SFT model): the LM head is left unused and a
   * fresh score head ~ N(0, 0.02²) from {@code seed} is added, as transformers initialises it.
   */
  public static RewardModel fromCausalLm(LlamaModel backbone, long seed) {
    int hidden = backbone.config().hiddenSize();
    Random random = new Random(seed);
    float[] values = new float[hidden];
    for (int i = 0; i < hidden; i++) {
      values[i] = (float) (random.nextGaussian() * 0.02);
    }
    NDArray head =
        backbone
            .manager()
            .create(values, new Shape(1, hidden))
            .toType(backbone.weights().get(WeightNames.EMBED_TOKENS).getDataType(), false);
    return new RewardModel(backbone, head);
  }

  /**
   * Opens either form a reward model is saved in: a Hugging Face sequence-classification directory,
   * or a PEFT sequence-classification adapter ({@link RewardAdapter}) over the base that {@code
   * bases} finds for its {@code base_model_name_or_path}.
   */
  public static RewardModel open(
      Path dir, java.util.function.Function<String, Path> bases, Compute compute) {
    return RewardAdapter.isAdapter(dir)
        ? RewardAdapter.load(dir, bases.apply(RewardAdapter.baseName(dir)), compute)
        : load(dir, compute, Projections.DENSE);
  }

  /** Loads a saved reward model directory (config.json with num_labels 1, and score.weight). */
  public static RewardModel load(Path dir, Compute compute, Projections projections) {
    LlamaModel backbone = LlamaModel.load(dir, compute, projections);
    NDArray head = backbone.weights().get(SCORE);
    if (head == null || !head.getShape().equals(new Shape(1, backbone.config().hiddenSize()))) {
      backbone.close();
      throw new IllegalArgumentException(
          dir
              + " is not a reward model: it needs "
              + SCORE
              + " of shape (1, "
              + backbone.config().hiddenSize()
              + ") (a sequence-classification checkpoint with num_labels 1)");
    }
    return new RewardModel(backbone, head);
  }

  public LlamaModel backbone() {
    return backbone;
  }

  /** The score head (1, hidden). */
  public NDArray head() {
    return score;
  }

  /**
   * The tensors full fine-tuning trains: every backbone weight the reward uses (not an untied LM
   * head) and the score head.
   */
  public Map<String, NDArray> fullParameters() {
    Map<String, NDArray> parameters = new LinkedHashMap<>(backbone.weights());
    parameters.remove(WeightNames.LM_HEAD);
    parameters.put(SCORE, score);
    return parameters;
  }

  /**
   * Rewards (rows,) float32 of right- or left-padded sequences.
   *
   * @param attentionMask (rows, len) INT64, 1 for real tokens
   */
  public NDArray rewards(NDArray inputIds, NDArray attentionMask) {
    NDManager scope = inputIds.getManager();
    NDArray hidden = backbone.hiddenStates(inputIds, attentionMask); // (rows, len, hidden)
    NDArray perPosition =
        hidden.getNDArrayInternal().linear(hidden, score, null).singletonOrThrow().squeeze(-1);
    // The last real token: the largest position index whose mask is 1 (any padding side).
    long len = inputIds.getShape().get(1);
    NDArray positions =
        scope.arange(0, len, 1, ai.djl.ndarray.types.DataType.INT64).reshape(1, len);
    NDArray last = positions.mul(attentionMask).argMax(1).expandDims(-1);
    NDArray pooled = perPosition.gather(last, 1).squeeze(-1);
    return pooled.getDataType() == ai.djl.ndarray.types.DataType.FLOAT32
        ? pooled
        : pooled.toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
  }

  /** Rewards of a prompt + response batch. */
  public NDArray rewards(SequenceBatch batch, NDManager scope) {
    return rewards(batch.idsArray(scope), batch.maskArray(scope));
  }

  /** Scores each (prompt, response) in batches of {@code batchSize}, without recording a graph. */
  public double[] score(List<int[]> prompts, List<int[]> responses, int batchSize) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be > 0 but was " + batchSize);
    }
    double[] scores = new double[prompts.size()];
    for (int from = 0; from < prompts.size(); from += batchSize) {
      int to = Math.min(prompts.size(), from + batchSize);
      SequenceBatch batch =
          SequenceBatch.of(prompts.subList(from, to), responses.subList(from, to), padId);
      try (NDManager scope = backbone.manager().newSubManager()) {
        float[] values = Autograd.withGrad(false, () -> rewards(batch, scope).toFloatArray());
        for (int i = 0; i < values.length; i++) {
          scores[from + i] = values[i];
        }
      }
    }
    return scores;
  }

  /**
   * Saves in Hugging Face layout: config.json naming {@code LlamaForSequenceClassification} with
   * num_labels 1, the backbone weights without an LM head, {@code score.weight}, and the tokenizer
   * files found in {@code tokenizerFrom} (may be null). A LoRA-trained backbone must be merged
   * first ({@link dev.tuneforge.llm.adapter.LoraAdapter#merge()}); an NF4-quantized one cannot be
   * saved this way and is refused.
   */
  public void save(Path dir, Path tokenizerFrom) {
    for (int layer = 0; layer < backbone.config().numLayers(); layer++) {
      String name = WeightNames.weight(layer, WeightNames.Q_PROJ);
      if (!backbone.weights().containsKey(name)) {
        throw new IllegalStateException(
            "cannot save the reward model: "
                + name
                + " is quantized (NF4) in this backbone; load the base unquantized, merge the"
                + " adapter, then save");
      }
    }
    try {
      Files.createDirectories(dir);
      JsonObject config = backbone.config().toJson();
      JsonArray architectures = new JsonArray();
      architectures.add(
          switch (backbone.config().modelType()) {
            case "qwen2" -> "Qwen2ForSequenceClassification";
            case "qwen3" -> "Qwen3ForSequenceClassification";
            case "mistral" -> "MistralForSequenceClassification";
            case "phi3" -> "Phi3ForSequenceClassification";
            case "gemma2" -> "Gemma2ForSequenceClassification";
            case "gemma3_text" -> "Gemma3TextForSequenceClassification";
            default -> "LlamaForSequenceClassification";
          });
      config.add("architectures", architectures);
      config.addProperty("num_labels", 1);
      JsonObject id2label = new JsonObject();
      id2label.addProperty("0", "LABEL_0");
      config.add("id2label", id2label);
      JsonObject label2id = new JsonObject();
      label2id.addProperty("LABEL_0", 0);
      config.add("label2id", label2id);
      Files.writeString(
          dir.resolve("config.json"),
          new GsonBuilder().setPrettyPrinting().create().toJson(config));
      if (tokenizerFrom != null) {
        dev.tuneforge.llm.tokenizer.TokenizerFiles.copy(tokenizerFrom, dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write reward model " + dir, e);
    }
    Map<String, NDArray> tensors = new LinkedHashMap<>(backbone.weights());
    tensors.remove(WeightNames.LM_HEAD);
    tensors.put(SCORE, score);
    HfCheckpoint.save(dir, tensors, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES);
  }

  @Override
  public void close() {
    backbone.close();
  }
}
