package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.reflect.TypeToken;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.optim.AdamW;
import dev.tuneforge.llm.optim.GradientClipping;
import dev.tuneforge.llm.optim.LrSchedule;
import dev.tuneforge.llm.recipe.AdapterTraining;
import dev.tuneforge.llm.recipe.DataOrder;
import dev.tuneforge.llm.recipe.DivergenceGuard;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.recipe.StepListener;
import dev.tuneforge.llm.recipe.StepSeeds;
import dev.tuneforge.llm.recipe.Throughput;
import dev.tuneforge.llm.recipe.TrainerCheckpoint;
import dev.tuneforge.llm.recipe.TrainingStep;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The optimisation loop of pairwise preference training (reward models, DPO, online DPO): batches
 * of units ({@code T}: preference pairs, or the prompts online DPO makes its pairs from), AdamW
 * with the learning-rate schedule, global-norm clipping, gradient accumulation, periodic evaluation
 * and resumable checkpoints. What a batch costs is the caller's {@link PairLoss}.
 */
public final class PairwiseTrainer<T> {
  /** The loss of a micro-batch and its figures; runs under the caller's grad mode. */
  @FunctionalInterface
  public interface PairLoss<T> {
    Step compute(List<T> units, NDManager scope);

    /**
     * The loss while training, its gradients (weighted by {@code scale}) accumulated: by default
     * one backward of {@link #compute}'s loss; a loss that back-propagates in pieces (DPO's chunked
     * log-probabilities) does it itself.
     */
    default Step computeAndBackward(List<T> units, NDManager scope, float scale) {
      Step step = compute(units, scope);
      Autograd.backward(step.loss().mul(scope.full(new Shape(), scale)));
      return step;
    }
  }

  /** A scalar loss, per-pair figures and the tokens the batch went through (for tokens/s). */
  public record Step(NDArray loss, Metrics metrics, long tokens) {}

  private static final Gson GSON = new Gson();
  private final NDManager manager;
  private final Map<String, NDArray> trainable;
  private final SftSettings settings;
  private final PairLoss<T> pairLoss;

  public PairwiseTrainer(
      NDManager manager,
      Map<String, NDArray> trainable,
      SftSettings settings,
      PairLoss<T> pairLoss) {
    this.manager = manager;
    this.trainable = trainable;
    this.settings = settings;
    this.pairLoss = pairLoss;
    trainable.values().forEach(p -> p.setRequiresGradient(true));
  }

  /** AdamW's betas and epsilon (transformers' defaults until set). */
  public PairwiseTrainer<T> withOptimizer(dev.tuneforge.llm.recipe.OptimizerSettings optimizer) {
    this.optimizerSettings = java.util.Objects.requireNonNull(optimizer);
    return this;
  }

  /**
   * Stops the run before the next step once {@code stop} answers true (a cancel); the steps done so
   * far are returned.
   */
  public PairwiseTrainer<T> withStopSignal(java.util.function.BooleanSupplier stop) {
    this.stopSignal = java.util.Objects.requireNonNull(stop);
    return this;
  }

  private java.util.function.BooleanSupplier stopSignal = () -> false;

  private AdapterTraining adapterTraining = AdapterTraining.NONE;

  /** The adapter's part in the loop (AdaLoRA's penalty and rank allocation). */
  public PairwiseTrainer<T> withAdapterTraining(AdapterTraining adapterTraining) {
    this.adapterTraining = java.util.Objects.requireNonNull(adapterTraining);
    return this;
  }

  private dev.tuneforge.llm.recipe.OptimizerSettings optimizerSettings =
      dev.tuneforge.llm.recipe.OptimizerSettings.DEFAULT;

  public List<TrainingStep> train(List<T> train, List<T> eval, StepListener listener) {
    return train(train, eval, listener, SftRecipe.Checkpointing.NONE, null);
  }

  /**
   * Trains, checkpointing every save_steps; with {@code resumeFrom}, continues so the remaining
   * steps are those of an uninterrupted run.
   */
  public List<TrainingStep> train(
      List<T> train,
      List<T> eval,
      StepListener listener,
      SftRecipe.Checkpointing checkpointing,
      Path resumeFrom) {
    int batchSize = settings.batchSize();
    if (train.size() < batchSize) {
      throw new IllegalArgumentException(
          "the training split has "
              + train.size()
              + " records, fewer than per_device_train_batch_size "
              + batchSize);
    }
    int stepsPerEpoch =
        Math.max(1, train.size() / (batchSize * settings.gradientAccumulationSteps()));
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
    DataOrder order = new DataOrder(train, settings.seed(), 0);
    List<TrainingStep> history = new ArrayList<>();
    long firstStep = 0;
    try (AdamW optimizer = new AdamW(optimizerSettings.adamW(settings.weightDecay()), manager)) {
      if (resumeFrom != null) {
        TrainerCheckpoint.State state = TrainerCheckpoint.state(resumeFrom);
        try (NDManager scope = manager.newSubManager()) {
          TrainerCheckpoint.restoreTrainable(resumeFrom, trainable, scope);
          optimizer.restore(TrainerCheckpoint.optimizer(resumeFrom, scope), state.globalStep());
        }
        order.seek(state.dataEpoch(), state.dataCursor());
        adapterTraining.resume(resumeFrom);
        if (state.extra() != null && state.extra().has("pairwise_history")) {
          history.addAll(
              GSON.fromJson(
                  state.extra().get("pairwise_history"),
                  new TypeToken<List<TrainingStep>>() {}.getType()));
        }
        firstStep = state.globalStep();
      }
      Throughput throughput = new Throughput();
      for (long step = firstStep; step < totalSteps; step++) {
        if (stopSignal.getAsBoolean()) {
          break;
        }
        StepSeeds.apply(settings.seed(), step);
        double lr = settings.learningRate() * schedule.multiplier(step);
        double loss = 0;
        Metrics metrics = new Metrics();
        for (int micro = 0; micro < settings.gradientAccumulationSteps(); micro++) {
          @SuppressWarnings("unchecked")
          List<T> units = (List<T>) order.next(batchSize);
          loss += microStep(units, metrics, throughput) / settings.gradientAccumulationSteps();
        }
        loss += adapterTraining.penalty(manager);
        double gradNorm;
        try (NDManager scope = manager.newSubManager()) {
          gradNorm = GradientClipping.clip(trainable, settings.maxGradNorm(), scope);
        }
        DivergenceGuard.check(step + 1, loss, gradNorm, lr, checkpointing);
        adapterTraining.update(step + 1, trainable, manager, () -> optimizer.update(trainable, lr));
        boolean log = settings.loggingSteps() > 0 && (step + 1) % settings.loggingSteps() == 0;
        boolean evaluate =
            settings.evalSteps() > 0 && !eval.isEmpty() && (step + 1) % settings.evalSteps() == 0;
        if (log || evaluate || step + 1 == totalSteps) {
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
                  metrics.values(),
                  evaluate ? evaluate(eval) : null);
          history.add(progress);
          listener.onStep(progress);
        }
        JsonObject extra = new JsonObject();
        extra.add("pairwise_history", GSON.toJsonTree(history));
        TrainerCheckpoint.saveIfDue(
            checkpointing,
            step + 1,
            order,
            settings.seed(),
            extra,
            trainable,
            optimizer.state(),
            adapterTraining);
      }
    }
    return history;
  }

  private double microStep(List<T> units, Metrics metrics, Throughput throughput) {
    try (NDManager scope = manager.newSubManager()) {
      return Autograd.withGrad(
          true,
          () -> {
            Step step =
                pairLoss.computeAndBackward(
                    units, scope, 1f / settings.gradientAccumulationSteps());
            throughput.add(step.tokens());
            metrics.addAll(step.metrics());
            return (double) step.loss().getFloat();
          });
    }
  }

  /** Figures over {@code units} (mean loss as {@code loss}), without recording a graph. */
  public Map<String, Double> evaluate(List<T> units) {
    Metrics all = new Metrics();
    for (int from = 0; from < units.size(); from += settings.batchSize()) {
      List<T> batch = units.subList(from, Math.min(units.size(), from + settings.batchSize()));
      try (NDManager scope = manager.newSubManager()) {
        Autograd.withGrad(
            false,
            () -> {
              Step step = pairLoss.compute(batch, scope);
              float loss = step.loss().getFloat();
              float[] perPair = new float[batch.size()];
              java.util.Arrays.fill(perPair, loss);
              all.mean("loss", perPair).addAll(step.metrics());
              return null;
            });
      }
    }
    return all.values();
  }
}
