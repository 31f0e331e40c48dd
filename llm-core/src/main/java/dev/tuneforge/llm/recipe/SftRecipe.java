package dev.tuneforge.llm.recipe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.data.Batch;
import dev.tuneforge.llm.data.PackedBatch;
import dev.tuneforge.llm.data.Packing;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.loss.CausalLmLoss;
import dev.tuneforge.llm.loss.ChunkedCrossEntropy;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.optim.AdamW;
import dev.tuneforge.llm.optim.GradientClipping;
import dev.tuneforge.llm.optim.LrSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Supervised fine-tuning (instruction tuning, as in TRL's SFTTrainer): minimise the next-token
 * cross-entropy of the trained tokens (completion or assistant turns, EOS included), {@code L =
 * -mean_t log p(y_t | y_<t)}, with AdamW, a learning-rate schedule, global-norm clipping and
 * gradient accumulation. Which weights train is the caller's choice: every weight (full
 * fine-tuning) or an adapter's (LoRA, QLoRA). Assumes one model per job and one thread.
 */
public final class SftRecipe {
  /** Evaluation figures: mean loss and the fraction of trained tokens predicted exactly. */
  public record Evaluation(double loss, double tokenAccuracy) {
    /** As a logged step carries them: {@code loss} and {@code mean_token_accuracy}. */
    public Map<String, Double> figures() {
      return Map.of("loss", loss, "mean_token_accuracy", tokenAccuracy);
    }
  }

  private final LlamaModel model;
  private final Map<String, NDArray> trainable;
  private final SftSettings settings;
  private final int padId;
  private EvalPolicy evalPolicy = EvalPolicy.NONE;
  private int packedRowLength;
  private double neftuneAlpha;
  private boolean groupByLength;
  private boolean gradientCheckpointing;
  private AdapterTraining adapterTraining = AdapterTraining.NONE;
  private double fp16InitialScale;
  private MixedPrecision mixedPrecision;
  private long stepSeed;
  private java.util.function.BooleanSupplier stopSignal = () -> false;

  public SftRecipe(LlamaModel model, Map<String, NDArray> trainable, SftSettings settings) {
    this.model = model;
    this.trainable = trainable;
    this.settings = settings;
    this.padId = Math.max(model.config().padTokenId(), 0);
    trainable.values().forEach(p -> p.setRequiresGradient(true));
  }

  /**
   * Packs short training examples into rows of {@code rowLength} tokens (TRL's packing, without
   * cross-contamination); a batch is then per_device_train_batch_size rows.
   */
  /** AdamW's betas and epsilon (transformers' defaults until set). */
  public SftRecipe withOptimizer(OptimizerSettings optimizer) {
    this.optimizerSettings = java.util.Objects.requireNonNull(optimizer);
    return this;
  }

  private OptimizerSettings optimizerSettings = OptimizerSettings.DEFAULT;

  public SftRecipe withPacking(int rowLength) {
    this.packedRowLength = rowLength;
    return this;
  }

  /**
   * Trains in float16 with float32 master weights and dynamic loss scaling (transformers' fp16);
   * the model must be loaded in float16.
   */
  public SftRecipe withFp16(boolean fp16) {
    this.fp16InitialScale = fp16 ? MixedPrecision.INITIAL_SCALE : 0;
    return this;
  }

  /** fp16 with a chosen initial loss scale (tests start it high to provoke overflow). */
  SftRecipe withFp16(double initialScale) {
    this.fp16InitialScale = initialScale;
    return this;
  }

  /**
   * The adapter's part in the loop (AdaLoRA's penalty and rank allocation), when it has one: its
   * penalty joins each step's gradients and reported loss, and it sees each step's clipped
   * gradients after the optimizer step.
   */
  public SftRecipe withAdapterTraining(AdapterTraining adapterTraining) {
    this.adapterTraining = java.util.Objects.requireNonNull(adapterTraining);
    return this;
  }

  /** Recomputes each layer in the backward instead of keeping its activations (saves memory). */
  public SftRecipe withGradientCheckpointing(boolean enabled) {
    this.gradientCheckpointing = enabled;
    return this;
  }

  /** Adds NEFTune noise to the embeddings during training steps (not evaluation); typ. 5. */
  public SftRecipe withNeftune(double alpha) {
    this.neftuneAlpha = alpha;
    return this;
  }

  /**
   * Draws batches of similar length (transformers' group_by_length): each epoch's permutation is
   * cut into mega-batches of 50 batches, each sorted longest first, so less padding is computed.
   */
  public SftRecipe withGroupByLength(boolean group) {
    this.groupByLength = group;
    return this;
  }

  /** Sets what evaluations decide: best-model restore and early stopping. */
  public SftRecipe withEvalPolicy(EvalPolicy policy) {
    this.evalPolicy = policy;
    return this;
  }

  /**
   * Where and how often to checkpoint; {@code saveSteps} 0 saves nothing. {@code onSaved} sees each
   * complete checkpoint directory (to copy it to object storage).
   */
  public record Checkpointing(
      java.nio.file.Path outputDir,
      int saveSteps,
      int saveTotalLimit,
      java.util.function.Consumer<java.nio.file.Path> onSaved) {
    public static final Checkpointing NONE = new Checkpointing(null, 0, 0);

    public Checkpointing(java.nio.file.Path outputDir, int saveSteps, int saveTotalLimit) {
      this(outputDir, saveSteps, saveTotalLimit, saved -> {});
    }
  }

  /**
   * Stops the run before the next step once {@code stop} answers true (a cancel); the steps done
   * and their checkpoints are kept.
   */
  public SftRecipe withStopSignal(java.util.function.BooleanSupplier stop) {
    this.stopSignal = stop;
    return this;
  }

  /**
   * Trains on {@code train}, evaluating on {@code eval} every eval_steps (if > 0 and not empty).
   */
  public List<TrainingStep> train(
      List<TokenizedExample> train, List<TokenizedExample> eval, StepListener listener) {
    return train(train, eval, listener, Checkpointing.NONE, null);
  }

  /**
   * Trains, saving a checkpoint every save_steps; with {@code resumeFrom} set, continues from that
   * checkpoint so the remaining steps are exactly those of an uninterrupted run.
   */
  public List<TrainingStep> train(
      List<TokenizedExample> train,
      List<TokenizedExample> eval,
      StepListener listener,
      Checkpointing checkpointing,
      java.nio.file.Path resumeFrom) {
    int examplesPerStep = settings.batchSize() * settings.gradientAccumulationSteps();
    int available =
        packedRowLength > 0 ? Packing.pack(train, packedRowLength).size() : train.size();
    if (available < settings.batchSize()) {
      throw new IllegalArgumentException(
          "the training split has "
              + available
              + (packedRowLength > 0 ? " packed rows" : " examples")
              + ", fewer than per_device_train_batch_size "
              + settings.batchSize());
    }
    int stepsPerEpoch = Math.max(1, available / examplesPerStep);
    long totalSteps =
        settings.maxSteps() > 0
            ? settings.maxSteps()
            : (long) Math.ceil(settings.numTrainEpochs() * stepsPerEpoch);
    LrSchedule schedule =
        new LrSchedule(
            settings.lrSchedulerType(),
            LrSchedule.warmup(settings.warmupSteps(), settings.warmupRatio(), totalSteps),
            totalSteps);
    adapterTraining.start(totalSteps);
    List<?> units = packedRowLength > 0 ? Packing.pack(train, packedRowLength) : train;
    DataOrder order =
        new DataOrder(units, settings.seed(), groupByLength ? 50 * settings.batchSize() : 0);
    List<TrainingStep> history = new ArrayList<>();
    long firstStep = 0;
    try (AdamW optimizer =
        new AdamW(optimizerSettings.adamW(settings.weightDecay()), model.manager())) {
      mixedPrecision =
          fp16InitialScale > 0
              ? new MixedPrecision(trainable, model.manager(), fp16InitialScale)
              : null;
      // What the optimizer updates and checkpoints hold: the float32 masters under fp16.
      Map<String, NDArray> updated = mixedPrecision != null ? mixedPrecision.masters() : trainable;
      if (resumeFrom != null) {
        TrainerCheckpoint.State state = TrainerCheckpoint.state(resumeFrom);
        try (NDManager scope = model.manager().newSubManager()) {
          TrainerCheckpoint.restoreTrainable(resumeFrom, updated, scope);
          optimizer.restore(TrainerCheckpoint.optimizer(resumeFrom, scope), state.globalStep());
        }
        if (mixedPrecision != null) {
          mixedPrecision.copyMastersToHalf();
        }
        order.seek(state.dataEpoch(), state.dataCursor());
        adapterTraining.resume(resumeFrom);
        history.addAll(state.logHistory());
        firstStep = state.globalStep();
      }
      Throughput throughput = new Throughput();
      BestModel best = new BestModel(evalPolicy, updated, model.manager());
      if (resumeFrom != null) {
        TrainerCheckpoint.State resumed = TrainerCheckpoint.state(resumeFrom);
        best.resume(resumed.bestMetric(), resumed.bestModelStep());
      }
      for (long step = firstStep; step < totalSteps; step++) {
        if (stopSignal.getAsBoolean()) {
          break;
        }
        // Dropout masks depend on (seed, step) only, so a resumed run draws the same ones.
        stepSeed = StepSeeds.apply(settings.seed(), step);
        double lr = settings.learningRate() * schedule.multiplier(step);
        double loss = 0;
        for (int micro = 0; micro < settings.gradientAccumulationSteps(); micro++) {
          List<?> unitsOfStep = order.next(settings.batchSize());
          loss += microStep(unitsOfStep, throughput) / settings.gradientAccumulationSteps();
        }
        loss += adapterTraining.penalty(model.manager(), lossScale());
        double gradNorm;
        boolean skipped = false;
        if (mixedPrecision != null) {
          gradNorm =
              mixedPrecision.step(optimizer, lr, settings.maxGradNorm(), step + 1, adapterTraining);
          skipped = Double.isNaN(gradNorm); // float16 overflow: step skipped, loss scale halved
        } else {
          try (NDManager scope = model.manager().newSubManager()) {
            gradNorm = GradientClipping.clip(trainable, settings.maxGradNorm(), scope);
          }
        }
        if (!Double.isFinite(loss) || (!skipped && !Double.isFinite(gradNorm))) {
          // an fp16 step skipped for overflow has an infinite norm by design
          throw DivergenceGuard.diverged(step + 1, loss, gradNorm, lr, checkpointing);
        }
        if (mixedPrecision == null) {
          adapterTraining.update(
              step + 1, trainable, model.manager(), () -> optimizer.update(trainable, lr));
        }
        boolean log = settings.loggingSteps() > 0 && (step + 1) % settings.loggingSteps() == 0;
        boolean evaluate =
            settings.evalSteps() > 0 && !eval.isEmpty() && (step + 1) % settings.evalSteps() == 0;
        if (log || evaluate || step + 1 == totalSteps) {
          Evaluation evaluation = evaluate ? evaluate(eval) : null;
          TrainingStep progress =
              new TrainingStep(
                  step + 1,
                  totalSteps,
                  (double) (step + 1) / stepsPerEpoch,
                  loss,
                  lr,
                  gradNorm,
                  throughput.tokensPerSecond(),
                  throughput.etaSeconds(step + 1 - firstStep, totalSteps - step - 1),
                  Map.of(),
                  evaluation == null ? Map.of() : evaluation.figures());
          history.add(progress);
          listener.onStep(progress);
          if (evaluation != null && best.observe(evaluation, step + 1)) {
            break; // early stopping: no improvement for early_stopping_patience evaluations
          }
        }
        if (checkpointing.saveSteps() > 0 && (step + 1) % checkpointing.saveSteps() == 0) {
          TrainerCheckpoint.State state =
              new TrainerCheckpoint.State(
                  step + 1,
                  order.epoch(),
                  order.cursor(),
                  settings.seed(),
                  List.copyOf(history),
                  best.bestMetric(),
                  best.bestStep());
          java.nio.file.Path saved =
              TrainerCheckpoint.save(
                  checkpointing.outputDir(),
                  state,
                  updated,
                  optimizer.state(),
                  adapterTraining.state(),
                  checkpointing.saveTotalLimit());
          checkpointing.onSaved().accept(saved);
        }
      }
      best.restoreIfAsked();
      if (mixedPrecision != null) {
        mixedPrecision.copyMastersToHalf();
        mixedPrecision.close();
      }
    }
    return history;
  }

  /** Tokens trained per second of wall time since the run (or resume) began. */

  /** Forward and backward of one micro-batch of examples or packed rows; returns its mean loss. */
  @SuppressWarnings("unchecked")
  private double microStep(List<?> units, Throughput throughput) {
    if (packedRowLength > 0) {
      if (gradientCheckpointing) {
        throw new IllegalArgumentException(
            "gradient_checkpointing with packing is not supported yet; turn one off");
      }
      PackedBatch batch = PackedBatch.of((List<Packing.Row>) units, padId);
      throughput.add(batch.trainedTokens());
      return backward(
          scope -> model.forwardPacked(batch.idsArray(scope), batch.segmentsArray(scope)),
          batch::labelsArray);
    }
    Batch batch = Batch.of((List<TokenizedExample>) units, padId);
    throughput.add(batch.trainedTokens());
    if (gradientCheckpointing) {
      if (neftuneAlpha > 0) {
        throw new IllegalArgumentException(
            "neftune_noise_alpha with gradient_checkpointing is not supported yet; turn one off");
      }
      try (NDManager scope = model.manager().newSubManager()) {
        float scale = lossScale() / settings.gradientAccumulationSteps();
        return ActivationCheckpointing.backward(
            model,
            batch.idsArray(scope),
            batch.maskArray(scope),
            batch.labelsArray(scope),
            scale,
            stepSeed,
            scope);
      }
    }
    try (NDManager scope = model.manager().newSubManager()) {
      return Autograd.withGrad(
          true,
          () -> {
            model.setNeftuneNoise(neftuneAlpha);
            NDArray hidden;
            try {
              hidden = model.hiddenStates(batch.idsArray(scope), batch.maskArray(scope));
            } finally {
              model.setNeftuneNoise(0);
            }
            float scale = lossScale() / settings.gradientAccumulationSteps();
            return ChunkedCrossEntropy.backward(model, hidden, batch.labelsArray(scope), scale)[0];
          });
    }
  }

  /** Forward and backward of one micro-batch; returns its mean loss. */
  private double backward(
      java.util.function.Function<NDManager, NDArray> forward,
      java.util.function.Function<NDManager, NDArray> labels) {
    try (NDManager scope = model.manager().newSubManager()) {
      return Autograd.withGrad(
          true,
          () -> {
            model.setNeftuneNoise(neftuneAlpha);
            NDArray logits;
            try {
              logits = forward.apply(scope);
            } finally {
              model.setNeftuneNoise(0);
            }
            CausalLmLoss.Result result = CausalLmLoss.crossEntropy(logits, labels.apply(scope));
            NDArray scaled =
                result
                    .loss()
                    .mul(
                        scope.full(
                            new Shape(), lossScale() / settings.gradientAccumulationSteps()));
            Autograd.backward(scaled);
            return (double) result.loss().getFloat();
          });
    }
  }

  private float lossScale() {
    return mixedPrecision == null ? 1f : (float) mixedPrecision.lossScale();
  }

  /** Mean loss and token accuracy over {@code examples}, without recording a graph. */
  public Evaluation evaluate(List<TokenizedExample> examples) {
    double lossSum = 0;
    long correct = 0;
    long counted = 0;
    for (int from = 0; from < examples.size(); from += settings.batchSize()) {
      Batch batch =
          Batch.of(
              examples.subList(from, Math.min(examples.size(), from + settings.batchSize())),
              padId);
      try (NDManager scope = model.manager().newSubManager()) {
        double[] sums =
            Autograd.withGrad(
                false,
                () ->
                    ChunkedCrossEntropy.evaluate(
                        model,
                        model.hiddenStates(batch.idsArray(scope), batch.maskArray(scope)),
                        batch.labelsArray(scope)));
        lossSum += sums[0];
        correct += Math.round(sums[1]);
        counted += Math.round(sums[2]);
      }
    }
    return new Evaluation(lossSum / counted, (double) correct / counted);
  }
}
