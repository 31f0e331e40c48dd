package dev.tuneforge.llm.model;

import static dev.tuneforge.llm.model.WeightNames.DOWN_PROJ;
import static dev.tuneforge.llm.model.WeightNames.GATE_PROJ;
import static dev.tuneforge.llm.model.WeightNames.INPUT_NORM;
import static dev.tuneforge.llm.model.WeightNames.K_NORM;
import static dev.tuneforge.llm.model.WeightNames.K_PROJ;
import static dev.tuneforge.llm.model.WeightNames.O_PROJ;
import static dev.tuneforge.llm.model.WeightNames.POST_ATTENTION_NORM;
import static dev.tuneforge.llm.model.WeightNames.Q_NORM;
import static dev.tuneforge.llm.model.WeightNames.Q_PROJ;
import static dev.tuneforge.llm.model.WeightNames.UP_PROJ;
import static dev.tuneforge.llm.model.WeightNames.V_PROJ;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import com.google.gson.GsonBuilder;
import dev.tuneforge.llm.checkpoint.HfCheckpoint;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Tape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A decoder-only Llama-family causal language model wired from Hugging Face weight names:
 * embedding, {@code numLayers} {@link DecoderLayer}s, a final {@link RmsNorm} and the LM head (tied
 * to the embedding when {@code tie_word_embeddings}). Owns its weights through one manager.
 */
public final class LlamaModel implements AutoCloseable {
  private final LlamaConfig config;
  private final NDManager manager;
  private final WeightSource source;
  private final Map<String, NDArray> owned;
  private final java.util.Set<String> handed = new java.util.HashSet<>();
  private final DataType computeType;
  private final boolean segmented;
  private boolean anyFrozen;
  private final Map<String, NDArray> weights;
  private final java.util.function.Supplier<NDArray> embedding;
  private final java.util.function.Supplier<NDArray> lmHead;
  private final java.util.function.Supplier<NDArray> virtualTokens;
  private final java.util.function.Function<NDManager, NDArray> prefix;
  private final List<DecoderLayer> layers;
  private final RmsNorm finalNorm;
  private final Rope rope;
  private final Rope localRope;
  private final NDArray embedScale;
  private final NDArray finalSoftcap;
  private final DataType floatType;
  private final AttentionMasks masks;
  private final NDArray oneFloat32;
  private float neftuneAlpha;

  /**
   * @param weights every tensor by its Hugging Face name, owned by {@code manager}
   * @param maxPositions positions the rotary tables cover
   */
  public LlamaModel(
      LlamaConfig config,
      NDManager manager,
      Map<String, NDArray> weights,
      Projections projections,
      int maxPositions) {
    this(config, manager, new WeightSource.InMemory(weights), projections, maxPositions);
  }

  private LlamaModel(
      LlamaConfig config,
      NDManager manager,
      WeightSource source,
      Projections projections,
      int maxPositions) {
    this.config = config;
    this.manager = manager;
    this.source = source;
    this.owned = new java.util.LinkedHashMap<>();
    this.weights = Collections.unmodifiableMap(owned);
    this.computeType = source.floatType();
    NDArray embeddingWeight =
        require(WeightNames.EMBED_TOKENS, config.vocabSize(), config.hiddenSize());
    this.embedding = projections.module(WeightNames.EMBED_TOKENS, embeddingWeight);
    this.virtualTokens = projections.virtualTokens(config, embeddingWeight);
    this.prefix = projections.prefix(config, manager, computeType);
    if (config.tieWordEmbeddings() || source.has(WeightNames.LM_HEAD)) {
      NDArray headWeight =
          config.tieWordEmbeddings()
              ? embeddingWeight
              : require(WeightNames.LM_HEAD, config.vocabSize(), config.hiddenSize());
      this.lmHead = projections.module(WeightNames.LM_HEAD, headWeight);
    } else {
      // A sequence-classification checkpoint (a reward model) has a score head instead.
      this.lmHead =
          () -> {
            throw new IllegalStateException(
                "this checkpoint has no "
                    + WeightNames.LM_HEAD
                    + " (a sequence-classification model): it scores, it cannot predict tokens");
          };
    }
    this.floatType = computeType;
    this.masks = new AttentionMasks(floatType);
    this.oneFloat32 = manager.ones(new Shape(1), DataType.FLOAT32);
    java.util.Optional<Gemma> gemma = config.gemma();
    double queryScalar = gemma.map(Gemma::queryPreAttnScalar).orElse((double) config.headDim());
    NDArray scale = scalar((float) (1.0 / Math.sqrt(queryScalar)));
    // Gemma scales embeddings by sqrt(hidden) rounded to the compute type, as transformers does.
    this.embedScale = gemma.isPresent() ? scalar((float) Math.sqrt(config.hiddenSize())) : null;
    this.finalSoftcap =
        gemma.isPresent() && gemma.get().finalLogitSoftcap() > 0
            ? manager.full(new Shape(), (float) gemma.get().finalLogitSoftcap())
            : null;
    float eps = (float) config.rmsNormEps();
    List<DecoderLayer> built = new ArrayList<>();
    for (int i = 0; i < config.numLayers(); i++) {
      built.add(layer(i, projections, scale, eps));
    }
    this.layers = List.copyOf(built);
    this.segmented = anyFrozen;
    this.finalNorm = norm(WeightNames.FINAL_NORM, config.hiddenSize());
    this.rope = Rope.create(manager, config, maxPositions, floatType);
    this.localRope =
        gemma.isPresent()
                && (gemma.get().localRopeTheta() != config.ropeTheta()
                    || config.ropeScaling().isPresent())
            ? Rope.create(
                manager,
                config.headDim(),
                gemma.get().localRopeTheta(),
                null,
                maxPositions,
                floatType)
            : rope;
    // Tensors no block asked for (a score head, extra buffers) are kept as loaded before.
    for (String name : source.names()) {
      if (!owned.containsKey(name) && !handed.contains(name)) {
        owned.put(name, source.load(name, manager, computeType));
      }
    }
    // Projections may replace a float weight (NF4 keeps its own packed copy and frees it).
    owned.values().removeIf(NDArray::isReleased);
  }

  /** A scalar in the compute type, owned by the model (never a Java number saved by autograd). */
  private NDArray scalar(float value) {
    return manager.full(new Shape(), value).toType(floatType, false);
  }

  /** The RMSNorm stored as {@code name}: Gemma's (1 + w) form for Gemma. */
  private RmsNorm norm(String name, int size) {
    return new RmsNorm(
        require(name, size), (float) config.rmsNormEps(), config.gemma().isPresent());
  }

  private DecoderLayer layer(int i, Projections projections, NDArray scale, float eps) {
    int q = config.numHeads() * config.headDim();
    int kv = config.numKvHeads() * config.headDim();
    int hidden = config.hiddenSize();
    int inter = config.intermediateSize();
    Linear[] qkv = new Linear[3];
    Linear[] gateUp = new Linear[2];
    if (config.fusedProjections()) { // Phi-3: q/k/v and gate/up stored (and adapted) fused
      FusedLinear fused =
          new FusedLinear(
              projection(
                  projections, i, WeightNames.QKV_PROJ, q + 2 * kv, hidden, config.qkvBias()));
      qkv = new Linear[] {fused.part(0, q), fused.part(q, q + kv), fused.part(q + kv, q + 2 * kv)};
      FusedLinear mlp =
          new FusedLinear(
              projection(
                  projections, i, WeightNames.GATE_UP_PROJ, 2 * inter, hidden, config.mlpBias()));
      gateUp = new Linear[] {mlp.part(0, inter), mlp.part(inter, 2L * inter)};
    } else {
      qkv[0] = projection(projections, i, Q_PROJ, q, hidden, config.qkvBias());
      qkv[1] = projection(projections, i, K_PROJ, kv, hidden, config.qkvBias());
      qkv[2] = projection(projections, i, V_PROJ, kv, hidden, config.qkvBias());
      gateUp[0] = projection(projections, i, GATE_PROJ, inter, hidden, config.mlpBias());
      gateUp[1] = projection(projections, i, UP_PROJ, inter, hidden, config.mlpBias());
    }
    Attention attention =
        new Attention(
            qkv[0],
            qkv[1],
            qkv[2],
            projection(projections, i, O_PROJ, hidden, q, config.outputBias()),
            config,
            scale,
            config.qkNorm()
                ? new Attention.QkNorm(
                    norm(WeightNames.weight(i, Q_NORM), config.headDim()),
                    norm(WeightNames.weight(i, K_NORM), config.headDim()))
                : null,
            config
                .gemma()
                .filter(g -> g.attnLogitSoftcap() > 0)
                .map(g -> scalar((float) g.attnLogitSoftcap()))
                .orElse(null));
    boolean gemma = config.gemma().isPresent();
    Mlp mlp =
        new Mlp(
            gateUp[0],
            gateUp[1],
            projection(projections, i, DOWN_PROJ, hidden, inter, config.mlpBias()),
            gemma
                ? new Mlp.GeluTanh(
                    scalar(0.044715f), scalar((float) Math.sqrt(2.0 / Math.PI)), scalar(0.5f))
                : null);
    RmsNorm inputNorm = norm(WeightNames.weight(i, INPUT_NORM), hidden);
    RmsNorm postAttention = norm(WeightNames.weight(i, POST_ATTENTION_NORM), hidden);
    if (!gemma) {
      return new DecoderLayer(inputNorm, attention, postAttention, mlp);
    }
    // Gemma: post_attention_layernorm norms the attention output; the MLP has a norm on each side.
    return new DecoderLayer(
        inputNorm,
        attention,
        postAttention,
        norm(WeightNames.weight(i, WeightNames.PRE_FEEDFORWARD_NORM), hidden),
        mlp,
        norm(WeightNames.weight(i, WeightNames.POST_FEEDFORWARD_NORM), hidden));
  }

  private Linear projection(
      Projections projections, int layer, String module, int out, int in, boolean hasBias) {
    String name = WeightNames.weight(layer, module);
    checkShape(name, out, in);
    NDArray bias = hasBias ? require(WeightNames.bias(layer, module), out) : null;
    handed.add(name);
    Linear linear = projections.create(layer, module, stored(name), bias);
    anyFrozen |= linear.frozenBase();
    return linear;
  }

  /** The projection weight {@code name}, read only when the projection asks. */
  private StoredWeight stored(String name) {
    return new WeightSource.Stored(
        source, name, new Shape(source.shape(name)), computeType, manager, owned);
  }

  private NDArray require(String name, long... shape) {
    checkShape(name, shape);
    return owned.computeIfAbsent(name, n -> source.load(n, manager, computeType));
  }

  private void checkShape(String name, long... shape) {
    if (!source.has(name)) {
      throw new IllegalArgumentException(
          "checkpoint is missing tensor " + name + " " + new Shape(shape));
    }
    Shape stored = new Shape(source.shape(name));
    if (!stored.equals(new Shape(shape))) {
      throw new IllegalArgumentException(
          "tensor " + name + " has shape " + stored + " but the config needs " + new Shape(shape));
    }
  }

  /** Default cap on the positions the rotary tables cover, to bound their memory. */
  public static final int DEFAULT_MAX_POSITIONS = 8192;

  /**
   * Loads a Hugging Face model directory with plain projections, computing in {@code floatType}
   * (FLOAT32 on CPU by default).
   */
  public static LlamaModel load(Path dir, DataType floatType) {
    Compute compute =
        new Compute(
            "cpu",
            floatType == DataType.FLOAT16
                ? "float16"
                : floatType == DataType.BFLOAT16 ? "bfloat16" : "float32");
    return load(dir, compute, Projections.DENSE);
  }

  /**
   * The frozen projections a checkpoint is evaluated and served with: float16 ({@link HalfLinear})
   * when config.json says it was saved in half precision ({@code torch_dtype} bfloat16 or float16),
   * as transformers' {@code torch_dtype="auto"} keeps it, so a 7B BF16 model needs about its stored
   * size instead of twice that; dense float32 otherwise.
   */
  public static Projections inferenceProjections(Path dir) {
    String stored = LlamaConfig.storedDtype(dir);
    return stored.equals("bfloat16") || stored.equals("float16")
        ? HalfLinear.projections()
        : Projections.DENSE;
  }

  /** Loads {@code dir} for inference, with {@link #inferenceProjections}. */
  public static LlamaModel loadForInference(Path dir, Compute compute) {
    return load(dir, compute, inferenceProjections(dir));
  }

  /** Loads a Hugging Face model directory on {@code compute}'s device and float type. */
  public static LlamaModel load(Path dir, Compute compute, Projections projections) {
    LlamaConfig config = LlamaConfig.load(dir);
    NDManager manager = compute.newManager();
    try {
      WeightSource source = new WeightSource.Checkpoint(HfCheckpoint.open(dir), compute.dataType());
      int maxPositions = Math.min(config.maxPositionEmbeddings(), DEFAULT_MAX_POSITIONS);
      return new LlamaModel(config, manager, source, projections, maxPositions);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** Saves config.json and the weights in Hugging Face layout. */
  public void save(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.writeString(
          dir.resolve("config.json"),
          new GsonBuilder().setPrettyPrinting().create().toJson(config.toJson()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve("config.json"), e);
    }
    HfCheckpoint.save(dir, weights, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES);
  }

  public LlamaConfig config() {
    return config;
  }

  /** Every weight by its Hugging Face name (the tied LM head appears once, as the embedding). */
  public Map<String, NDArray> weights() {
    return weights;
  }

  /** The manager owning the weights; per-call scopes are its sub-managers. */
  public NDManager manager() {
    return manager;
  }

  /**
   * Next-token logits at every position.
   *
   * @param inputIds (batch, seqLen) INT64: the new tokens
   * @param attentionMask (batch, pastLen + seqLen) INT64, 1 for real tokens and 0 for padding, or
   *     null when nothing is padded
   * @param cache keys and values of earlier tokens, appended to; null for a stateless forward
   * @return (batch, seqLen, vocabSize) float logits
   */
  public NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache) {
    return logits(hidden(inputIds, attentionMask, cache));
  }

  /**
   * The final-normed hidden states (batch, seqLen, hiddenSize) of a stateless forward, for heads
   * other than the LM head (a reward score, a value head); {@link #logits} turns them into logits.
   */
  public NDArray hiddenStates(NDArray inputIds, NDArray attentionMask) {
    return hidden(inputIds, attentionMask, null);
  }

  /** LM head over final-normed hidden states: float32 logits (batch, seqLen, vocabSize). */
  public NDArray logits(NDArray normed) {
    return head(normed);
  }

  /**
   * The LM head in float32, soft-capped as Gemma 2 caps its final logits ({@code cap * tanh(z /
   * cap)}).
   */
  private NDArray head(NDArray normed) {
    NDArray logits =
        toFloat32(
            normed.getNDArrayInternal().linear(normed, lmHead.get(), null).singletonOrThrow());
    return finalSoftcap == null ? logits : logits.div(finalSoftcap).tanh().mul(finalSoftcap);
  }

  /** As {@link #forward} but only for the last position: (batch, vocabSize), for generation. */
  public NDArray forwardLast(NDArray inputIds, NDArray attentionMask, KvCache cache) {
    NDArray last = hidden(inputIds, attentionMask, cache).get(":, -1, :"); // (batch, hiddenSize)
    return head(last);
  }

  /**
   * The final-normed hidden states (batch, seqLen, hiddenSize). Virtual tokens (prompt tuning) go
   * before the first forward of a sequence, into the cache if there is one; the caller's mask
   * covers its own tokens only, and the states of virtual positions are not returned.
   */
  private NDArray hidden(NDArray inputIds, NDArray attentionMask, KvCache cache) {
    long batch = inputIds.getShape().get(0);
    long pastLen = cache == null ? 0 : cache.length();
    NDArray prompt = pastLen == 0 ? virtualTokens.get() : null;
    NDArray prefixKv = pastLen == 0 ? prefix.apply(inputIds.getManager()) : null;
    long lead = prompt == null ? 0 : prompt.getShape().get(0);
    long prefixLen = prefixKv == null ? 0 : prefixKv.getShape().get(0);
    long seqLen = inputIds.getShape().get(1) + lead;
    NDManager scope = inputIds.getManager();
    long virtual = lead + prefixLen + (cache == null ? 0 : cache.virtualLength());
    if (attentionMask != null && virtual > 0) {
      attentionMask = VirtualTokens.visible(attentionMask, virtual);
    }
    if (cache != null && lead + prefixLen > 0) {
      cache.markVirtual(lead + prefixLen);
    }
    // The prefix's keys count as earlier positions: the tokens sit after them, as after a cache.
    pastLen += prefixLen;
    if (pastLen + seqLen > rope.maxPositions()) {
      throw new IllegalArgumentException(
          "sequence of "
              + (pastLen + seqLen)
              + " tokens exceeds the "
              + rope.maxPositions()
              + " positions the model covers");
    }
    NDArray positions =
        attentionMask != null
            ? AttentionMasks.positions(attentionMask, seqLen)
            : scope
                .arange(pastLen, pastLen + seqLen, 1, DataType.INT64)
                .reshape(1, seqLen)
                .repeat(0, batch);
    NDArray mask =
        attentionMask != null
            ? attentionMask
            : scope.ones(new Shape(batch, pastLen + seqLen), DataType.INT64);
    // One new token with nothing padded may look at every cached key (within the sliding window,
    // if any): no mask needed.
    boolean single = attentionMask == null && seqLen == 1;
    long past = pastLen;
    Context context =
        context(
            positions,
            window ->
                single && (window == 0 || past + 1 <= window)
                    ? null
                    : masks.padded(mask, seqLen, past, window),
            prefixed(prefixKv));
    return VirtualTokens.drop(decode(inputIds, prompt, context, cache), lead);
  }

  /**
   * Angles and masks for every layer: the global ones, and, when Gemma has sliding layers, the
   * local RoPE angles and the mask of their window ({@code maskFor} a window, 0 for none).
   */
  private Context context(
      NDArray positions, java.util.function.IntFunction<NDArray> maskFor, NDArray prefixKv) {
    NDArray[] angles = rope.angles(positions);
    NDArray bias = maskFor.apply(config.globalWindow());
    if (!hasLocalLayers()) {
      return new Context(angles, bias, null, null, prefixKv);
    }
    return new Context(
        angles,
        bias,
        localRope == rope ? angles : localRope.angles(positions),
        maskFor.apply(config.slidingWindow()),
        prefixKv);
  }

  /** Whether some layers are Gemma's sliding ones, with a window and RoPE base of their own. */
  private boolean hasLocalLayers() {
    return config.gemma().map(g -> g.slidingLayers().contains(true)).orElse(false);
  }

  /**
   * NEFTune (Jain et al., 2023): while set above 0, every forward adds uniform noise in {@code
   * +-alpha / sqrt(seqLen * hiddenSize)} to the token embeddings, as TRL does during training (typ.
   * alpha 5). Set it only around training steps; 0 turns it off.
   */
  public void setNeftuneNoise(double alpha) {
    if (!(alpha >= 0)) {
      throw new IllegalArgumentException("neftune_noise_alpha must be >= 0 but was " + alpha);
    }
    this.neftuneAlpha = (float) alpha;
  }

  /**
   * What a full-sequence forward needs besides the hidden states: rotary angles and the additive
   * mask, computed once and shared by every layer (for activation checkpointing). Gemma's sliding
   * layers use {@code localAngles} and {@code localBias}, null where no layer is one. {@code
   * prefix} holds prefix tuning's keys and values, layer l's at 2l and 2l + 1 (null for none).
   */
  public record Context(
      NDArray[] angles, NDArray bias, NDArray[] localAngles, NDArray localBias, NDArray prefix) {}

  /**
   * The context of a stateless forward over right-padded rows ({@code attentionMask} may be null).
   */
  public Context context(NDArray inputIds, NDArray attentionMask) {
    long batch = inputIds.getShape().get(0);
    long lead = virtualTokenCount();
    NDArray prefixKv = prefix.apply(inputIds.getManager());
    long prefixLen = prefixKv == null ? 0 : prefixKv.getShape().get(0);
    long seqLen = inputIds.getShape().get(1) + lead;
    NDArray mask =
        attentionMask != null
            ? VirtualTokens.visible(attentionMask, lead + prefixLen)
            : inputIds.getManager().ones(new Shape(batch, prefixLen + seqLen), DataType.INT64);
    return context(
        AttentionMasks.positions(mask, seqLen),
        window -> masks.padded(mask, seqLen, prefixLen, window),
        prefixed(prefixKv));
  }

  /**
   * Prefix tuning's flat keys and values as the layers read them: over a frozen base whose backward
   * runs layer by layer (engine.Tape), a leaf of the tape, so each layer's part of the graph
   * reaches it alone and its gradient flows into the adapter once.
   */
  private NDArray prefixed(NDArray prefixKv) {
    // A trained tensor itself is already a leaf (hasGradient reports false for computed arrays);
    // what an MLP computes is cut, and never the adapter's own tensor, which the tape would free.
    return prefixKv == null || !segmented || prefixKv.hasGradient()
        ? prefixKv
        : Tape.cut(prefixKv, true);
  }

  /**
   * {@code context} with prefix tuning's keys and values computed again in {@code scope}, under the
   * current gradient mode: a recomputed layer (activation checkpointing) needs them in its graph.
   */
  public Context withPrefixRecomputed(Context context, NDManager scope) {
    if (context.prefix() == null) {
      return context;
    }
    NDArray prefixKv = prefix.apply(scope);
    return new Context(
        context.angles(),
        context.bias(),
        context.localAngles(),
        context.localBias(),
        prefixed(prefixKv));
  }

  /**
   * The decoder's input (batch, virtual + seqLen, hiddenSize): the virtual tokens, if any, then the
   * token embeddings (with NEFTune's noise while it is set), scaled by Gemma's factor.
   */
  public NDArray embed(NDArray inputIds) {
    return embed(inputIds, virtualTokens.get());
  }

  private NDArray embed(NDArray inputIds, NDArray prompt) {
    NDArray embedded =
        inputIds
            .getNDArrayInternal()
            .embedding(inputIds, embedding.get(), SparseFormat.DENSE)
            .singletonOrThrow();
    if (neftuneAlpha > 0) {
      long seqLen = inputIds.getShape().get(1);
      float magnitude = (float) (neftuneAlpha / Math.sqrt((double) seqLen * config.hiddenSize()));
      embedded =
          embedded.add(
              inputIds
                  .getManager()
                  .randomUniform(
                      -magnitude, magnitude, embedded.getShape(), embedded.getDataType()));
    }
    // Gemma scales inputs_embeds, so PEFT's virtual tokens too.
    embedded = VirtualTokens.prepend(prompt, embedded);
    return embedScale == null ? embedded : embedded.mul(embedScale);
  }

  /** Virtual tokens placed before every sequence now (prompt tuning; 0 without, or disabled). */
  public long virtualTokenCount() {
    NDArray prompt = virtualTokens.get();
    return prompt == null ? 0 : prompt.getShape().get(0);
  }

  /** Whether a backward reaches the decoder's input: trained embeddings or virtual tokens. */
  public boolean inputTrains() {
    NDArray prompt = virtualTokens.get();
    return embedding.get().hasGradient() || (prompt != null && prompt.hasGradient());
  }

  /** {@code hidden} (batch, virtual + seqLen, ...) without its virtual positions. */
  public NDArray withoutVirtual(NDArray hidden) {
    return VirtualTokens.drop(hidden, virtualTokenCount());
  }

  /** Decoder layer {@code i} on hidden states (batch, seqLen, hiddenSize). */
  public NDArray layer(int i, NDArray hidden, Context context) {
    return layer(i, hidden, context, null);
  }

  private NDArray layer(int i, NDArray hidden, Context context, KvCache cache) {
    boolean local = config.gemma().map(g -> g.sliding(i)).orElse(false);
    NDArray[] prefixKv =
        context.prefix() == null
            ? null
            : VirtualTokens.prefixOf(
                context.prefix(), config, i, hidden.getShape().get(0), hidden.getManager());
    return layers
        .get(i)
        .forward(
            hidden,
            rope,
            local ? context.localAngles() : context.angles(),
            local ? context.localBias() : context.bias(),
            cache,
            i,
            prefixKv);
  }

  public int numLayers() {
    return layers.size();
  }

  /** The final norm over the last layer's output (batch, seqLen, hiddenSize). */
  public NDArray finalNorm(NDArray hidden) {
    return finalNorm.forward(hidden);
  }

  /**
   * Embedding (after {@code prompt}, null for none), every layer and the final norm, given the
   * rotary angles and the additive mask.
   */
  private NDArray decode(NDArray inputIds, NDArray prompt, Context context, KvCache cache) {
    NDArray hidden = embed(inputIds, prompt);
    boolean inputTrains = embedding.get().hasGradient() || (prompt != null && prompt.hasGradient());
    for (int i = 0; i < layers.size(); i++) {
      if (segmented) {
        // Every layer's input is a leaf of the tape, so each part of the graph is walked once.
        hidden = Tape.cut(hidden, i > 0 || inputTrains);
      }
      hidden = layer(i, hidden, context, cache);
    }
    return finalNorm.forward(hidden);
  }

  /**
   * Logits of packed rows: several examples share a row, each a run of one segment id (1, 2, ...; 0
   * is padding). Positions restart at 0 in every segment and a token attends only to earlier tokens
   * of its own segment, so each example is computed exactly as if alone.
   *
   * @param segments (batch, seqLen) INT64 segment ids
   * @return (batch, seqLen, vocabSize) float logits
   */
  public NDArray forwardPacked(NDArray inputIds, NDArray segments) {
    NDManager scope = inputIds.getManager();
    long seqLen = inputIds.getShape().get(1);
    if (virtualTokenCount() > 0 || prefix.apply(scope) != null) {
      throw new IllegalStateException(
          "packed rows hold several sequences, and prompt and prefix tuning's virtual tokens go"
              + " before each one: train them with packing off");
    }
    if (seqLen > rope.maxPositions()) {
      throw new IllegalArgumentException(
          "packed row of "
              + seqLen
              + " tokens exceeds the "
              + rope.maxPositions()
              + " positions the model covers");
    }
    long[] segmentIds = segments.toLongArray();
    long[] positions = new long[segmentIds.length];
    for (int i = 0; i < segmentIds.length; i++) {
      boolean continues = i % seqLen != 0 && segmentIds[i] == segmentIds[i - 1];
      positions[i] = continues ? positions[i - 1] + 1 : 0;
    }
    Context context =
        context(
            scope.create(positions, inputIds.getShape()),
            window -> masks.packed(segments, window),
            null);
    return head(decode(inputIds, null, context, null));
  }

  /** Logits are returned in float32 whatever the compute type, as transformers upcasts them. */
  private NDArray toFloat32(NDArray logits) {
    // Multiplying by a float32 (1)-shaped one promotes to float32 and, unlike toType, keeps the
    // graph, so a float16 model still trains (djl-spike.md, G3).
    return logits.getDataType() == DataType.FLOAT32 ? logits : logits.mul(oneFloat32);
  }

  @Override
  public void close() {
    manager.close();
  }
}
