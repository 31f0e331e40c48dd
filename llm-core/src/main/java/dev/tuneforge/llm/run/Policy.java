package dev.tuneforge.llm.run;

import dev.tuneforge.llm.adapter.Adapter;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.tokenizer.TokenizerFiles;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * What every method does the same way with the model it trains: checkpoints that carry the adapter
 * as of their step, and the result in {@code final/} (a PEFT adapter, or a Hugging Face model with
 * its tokenizer files).
 */
final class Policy {
  private Policy() {}

  /** Checkpoints every save_steps; each holds the adapter as of its step in {@code adapter/}. */
  static SftRecipe.Checkpointing checkpointing(TrainingJob job, Adapter adapter, RunHooks hooks) {
    Consumer<Path> onSaved =
        dir -> {
          if (adapter != null) {
            adapter.save(dir.resolve("adapter"), job.model().toString());
          }
          hooks.onCheckpoint().accept(dir);
        };
    return new SftRecipe.Checkpointing(
        job.outputDir(), job.save().saveSteps(), job.save().saveTotalLimit(), onSaved);
  }

  /** Where the result goes. */
  static Path finalDir(TrainingJob job) {
    return job.outputDir().resolve("final");
  }

  /** Saves the trained adapter, or the whole model with the base's tokenizer files. */
  static void saveFinal(TrainingJob job, LlamaModel model, Adapter adapter) {
    Path last = finalDir(job);
    if (adapter != null) {
      adapter.setTraining(false);
      adapter.save(last, job.model().toString());
    } else {
      model.save(last);
      TokenizerFiles.copy(job.model(), last);
    }
  }
}
