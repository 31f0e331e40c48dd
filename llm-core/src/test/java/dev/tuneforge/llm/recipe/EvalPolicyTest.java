package dev.tuneforge.llm.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training to reverse words while evaluating on copying them makes the evaluation loss worse as
 * training succeeds: early stopping must end the run, and load_best_model_at_end must restore the
 * weights of the best evaluation.
 */
class EvalPolicyTest {
  @TempDir Path dir;

  @Test
  void earlyStoppingEndsTheRunAndTheBestWeightsComeBack() {
    TinyLlama.write(dir, 1, TinyLlama.Size.DEFAULT);
    ReverseTask task = new ReverseTask(400, 40, 3, 5);
    List<TokenizedExample> copy =
        task.heldOut.stream()
            .map(
                w ->
                    TokenizedExample.completion(
                        ReverseTask.prompt(w),
                        ReverseTask.answer(new StringBuilder(w).reverse().toString())))
            .toList();
    SftSettings settings =
        new SftSettings(3e-3, 16, 1, 200, 0, 1.0, "constant", 0, 0, 0.0, 0, 5, 3);
    try (LlamaModel model = LlamaModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE)) {
      SftRecipe recipe =
          new SftRecipe(model, model.weights(), settings)
              .withEvalPolicy(new EvalPolicy(true, "eval_loss", false, 3, 0.0));
      List<TrainingStep> history =
          recipe.train(
              ReverseTask.examples(task.train),
              copy,
              StepListener.NONE,
              new SftRecipe.Checkpointing(dir.resolve("out"), 5, 0),
              null);

      TrainingStep last = history.get(history.size() - 1);
      assertTrue(last.step() < 200, "stopped early at step " + last.step());
      double best =
          history.stream()
              .filter(p -> p.evalLoss() != null)
              .mapToDouble(TrainingStep::evalLoss)
              .min()
              .orElseThrow();
      assertTrue(last.evalLoss() > best, "the last evaluation was worse than the best");
      assertEquals(best, recipe.evaluate(copy).loss(), 1e-6, "the best weights were restored");
      TrainerCheckpoint.State state =
          TrainerCheckpoint.state(TrainerCheckpoint.latest(dir.resolve("out")).orElseThrow());
      assertEquals(best, state.bestMetric(), 1e-9, "trainer_state.json records the best metric");
    }
  }
}
