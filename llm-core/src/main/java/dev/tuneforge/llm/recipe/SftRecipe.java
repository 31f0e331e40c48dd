package dev.tuneforge.llm.recipe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.data.Batch;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.loss.CausalLmLoss;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.optim.AdamW;
import dev.tuneforge.llm.optim.GradientClipping;
import dev.tuneforge.llm.optim.LrSchedule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Supervised fine-tuning (instruction tuning, as in TRL's SFTTrainer): minimise the next-token
 * cross-entropy of the trained tokens (completion or assistant turns, EOS included), {@code L =
 * -mean_t log p(y_t | y_<t)}, with AdamW, a learning-rate schedule, global-norm clipping and
 * gradient accumulation. Which weights train is the caller's choice: every weight (full
 * fine-tuning) or an adapter's (LoRA, QLoRA). Assumes one model per job and one thread.
 */
public final class SftRecipe {
  /** One logged point of a run. */
  public record Progress(
      long step,
      long totalSteps,
      double epoch,
      double loss,
      double learningRate,
      double gradNorm,
      double tokensPerSecond,
      Double evalLoss,
      Double evalTokenAccuracy) {}

  /** Receives progress every logging_steps and after each evaluation. */
  @FunctionalInterface
  public interface Listener {
    void onProgress(Progress progress);

    Listener NONE = p -> {};
  }

  /** Evaluation figures: mean loss and the fraction of trained tokens predicted exactly. */
  public record Evaluation(double loss, double tokenAccuracy) {}

  private final LlamaModel model;
  private final Map<String, NDArray> trainable;
  private final SftSettings settings;
  private final int padId;

  public SftRecipe(LlamaModel model, Map<String, NDArray> trainable, SftSettings settings) {
    this.model = model;
    this.trainable = trainable;
    this.settings = settings;
    this.padId = Math.max(model.config().padTokenId(), 0);
    trainable.values().forEach(p -> p.setRequiresGradient(true));
  }

  /**
   * Trains on {@code train}, evaluating on {@code eval} every eval_steps (if > 0 and not empty).
   */
  public List<Progress> train(
      List<TokenizedExample> train, List<TokenizedExample> eval, Listener listener) {
    Torch.engine().setRandomSeed((int) settings.seed());
    int stepsPerEpoch =
        Math.max(1, train.size() / (settings.batchSize() * settings.gradientAccumulationSteps()));
    long totalSteps =
        settings.maxSteps() > 0
            ? settings.maxSteps()
            : (long) Math.ceil(settings.numTrainEpochs() * stepsPerEpoch);
    LrSchedule schedule =
        new LrSchedule(
            settings.lrSchedulerType(),
            LrSchedule.warmup(settings.warmupSteps(), settings.warmupRatio(), totalSteps),
            totalSteps);
    Random order = new Random(settings.seed());
    List<TokenizedExample> shuffled = new ArrayList<>(train);
    List<Progress> history = new ArrayList<>();
    int cursor = shuffled.size();
    long start = System.nanoTime();
    long tokens = 0;
    try (AdamW optimizer =
        new AdamW(new AdamW.Settings(0.9, 0.999, 1e-8, settings.weightDecay()), model.manager())) {
      for (long step = 0; step < totalSteps; step++) {
        double lr = settings.learningRate() * schedule.multiplier(step);
        double loss = 0;
        for (int micro = 0; micro < settings.gradientAccumulationSteps(); micro++) {
          if (cursor + settings.batchSize() > shuffled.size()) {
            Collections.shuffle(shuffled, order);
            cursor = 0;
          }
          Batch batch = Batch.of(shuffled.subList(cursor, cursor + settings.batchSize()), padId);
          cursor += settings.batchSize();
          loss += backward(batch) / settings.gradientAccumulationSteps();
          tokens += batch.trainedTokens();
        }
        double gradNorm;
        try (NDManager scope = model.manager().newSubManager()) {
          gradNorm = GradientClipping.clip(trainable, settings.maxGradNorm(), scope);
        }
        if (!Double.isFinite(loss) || !Double.isFinite(gradNorm)) {
          throw new IllegalStateException(
              "training diverged at step "
                  + (step + 1)
                  + " (loss "
                  + loss
                  + ", grad norm "
                  + gradNorm
                  + ", learning rate "
                  + lr
                  + "); lower learning_rate or max_grad_norm");
        }
        optimizer.update(trainable, lr);
        boolean log = settings.loggingSteps() > 0 && (step + 1) % settings.loggingSteps() == 0;
        boolean evaluate =
            settings.evalSteps() > 0 && !eval.isEmpty() && (step + 1) % settings.evalSteps() == 0;
        if (log || evaluate || step + 1 == totalSteps) {
          Evaluation evaluation = evaluate ? evaluate(eval) : null;
          double seconds = (System.nanoTime() - start) / 1e9;
          Progress progress =
              new Progress(
                  step + 1,
                  totalSteps,
                  (double) (step + 1) / stepsPerEpoch,
                  loss,
                  lr,
                  gradNorm,
                  tokens / seconds,
                  evaluation == null ? null : evaluation.loss(),
                  evaluation == null ? null : evaluation.tokenAccuracy());
          history.add(progress);
          listener.onProgress(progress);
        }
      }
    }
    return history;
  }

  /** Forward and backward of one micro-batch; returns its mean loss. */
  private double backward(Batch batch) {
    try (NDManager scope = model.manager().newSubManager()) {
      return Autograd.withGrad(
          true,
          () -> {
            NDArray logits = model.forward(batch.idsArray(scope), batch.maskArray(scope), null);
            CausalLmLoss.Result result =
                CausalLmLoss.crossEntropy(logits, batch.labelsArray(scope));
            NDArray scaled =
                result
                    .loss()
                    .mul(scope.full(new Shape(), 1f / settings.gradientAccumulationSteps()));
            Autograd.backward(scaled);
            return (double) result.loss().getFloat();
          });
    }
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
                () -> {
                  NDArray logits =
                      model.forward(batch.idsArray(scope), batch.maskArray(scope), null);
                  NDArray labels = batch.labelsArray(scope);
                  CausalLmLoss.Result result = CausalLmLoss.crossEntropy(logits, labels);
                  NDArray predicted = logits.get(":, :-1, :").argMax(-1);
                  NDArray hits =
                      predicted
                          .eq(labels.get(":, 1:"))
                          .toType(result.trained().getDataType(), false)
                          .mul(result.trained());
                  return new double[] {
                    result.loss().getFloat() * result.trainedTokens(),
                    hits.sum().getFloat(),
                    result.trainedTokens()
                  };
                });
        lossSum += sums[0];
        correct += (long) sums[1];
        counted += (long) sums[2];
      }
    }
    return new Evaluation(lossSum / counted, (double) correct / counted);
  }
}
