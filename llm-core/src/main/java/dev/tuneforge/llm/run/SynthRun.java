package dev.tuneforge.llm.run;

import com.google.gson.JsonObject;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.generate.TextGenerator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.recipe.TrainingStep;
import dev.tuneforge.llm.synth.ConstitutionalAi;
import dev.tuneforge.llm.synth.SelfInstruct;
import dev.tuneforge.llm.synth.SynthProgress;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Data generation as a run: Self-Instruct from seed tasks, Constitutional AI from prompts, written
 * by the base model. Each saved round or batch is a logged step (its figures: kept, rejected by
 * reason, chains) and, every save_steps, a checkpoint holding the state file; a run resumed from
 * one continues where it stopped. The result in {@code final/} is the generated JSONL, {@code
 * stats.json} and the manifest, written last.
 */
final class SynthRun {
  private SynthRun() {}

  static Outcome run(TrainingJob job, MethodSettings method, Path resumeFrom, RunHooks hooks) {
    Path work = job.outputDir().resolve("generation");
    Path out = Policy.finalDir(job);
    if (resumeFrom != null) {
      restore(resumeFrom, work);
    }
    MethodSettings.Sampling sampling =
        method instanceof MethodSettings.SelfInstructData s
            ? s.sampling()
            : ((MethodSettings.ConstitutionalAiData) method).sampling();
    TrainingStep[] last = {null};
    SynthProgress.Listener listener =
        progress -> {
          TrainingStep step =
              new TrainingStep(
                  progress.done(), progress.total(), 0, 0, 0, 0, 0, 0, progress.figures(), null);
          last[0] = step;
          hooks.listener().onStep(step);
          int every = job.save().saveSteps();
          if (every > 0 && progress.done() % every == 0) {
            checkpoint(job, progress, hooks);
          }
        };
    try (Tokenizer tokenizer = Tokenizer.load(job.model());
        LlamaModel model = LlamaModel.load(job.model(), job.compute(), Projections.DENSE)) {
      TextGenerator generator =
          TextGenerator.local(
              model, tokenizer, sampling.maxNewTokens(), sampling.temperature(), sampling.topP());
      boolean finished;
      if (method instanceof MethodSettings.SelfInstructData selfInstruct) {
        finished =
            new SelfInstruct(generator, selfInstruct.settings())
                .run(seeds(job.trainFile()), work, out, hooks.stop(), listener)
                .finished();
      } else {
        MethodSettings.ConstitutionalAiData cai = (MethodSettings.ConstitutionalAiData) method;
        finished =
            new ConstitutionalAi(generator, cai.constitution(), cai.batchSize(), job.seed())
                .run(prompts(job.trainFile()), work, out, hooks.stop(), listener)
                .finished();
      }
      if (!finished) {
        return Outcome.stopped(out, false);
      }
      return new Outcome(
          out, false, last[0], last[0] == null ? java.util.Map.of() : last[0].figures(), false);
    }
  }

  /** A checkpoint directory holding the state file as of this progress. */
  private static void checkpoint(TrainingJob job, SynthProgress progress, RunHooks hooks) {
    Path dir = job.outputDir().resolve("checkpoint-" + progress.done());
    try {
      Files.createDirectories(dir);
      Files.copy(
          progress.state(),
          dir.resolve(progress.state().getFileName()),
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the generation checkpoint " + dir, e);
    }
    hooks.onCheckpoint().accept(dir);
  }

  private static void restore(Path checkpoint, Path work) {
    try {
      Files.createDirectories(work);
      for (String name : List.of(SelfInstruct.STATE, ConstitutionalAi.STATE)) {
        if (Files.isRegularFile(checkpoint.resolve(name))) {
          Files.copy(
              checkpoint.resolve(name), work.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore the generation state from " + checkpoint, e);
    }
  }

  /** Seed tasks: Alpaca JSONL, each line naming its missing field. */
  private static List<SelfInstruct.Task> seeds(Path file) {
    List<SelfInstruct.Task> seeds = new ArrayList<>();
    List<String> lines = lines(file);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      JsonObject record = SftDataset.object(lines.get(i), i + 1);
      seeds.add(
          new SelfInstruct.Task(
              text(record, "instruction", i + 1, true),
              text(record, "input", i + 1, false),
              text(record, "output", i + 1, true)));
    }
    return seeds;
  }

  /** Prompts: prompt-only JSONL with string prompts. */
  private static List<String> prompts(Path file) {
    List<String> prompts = new ArrayList<>();
    List<String> lines = lines(file);
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).isBlank()) {
        prompts.add(text(SftDataset.object(lines.get(i), i + 1), "prompt", i + 1, true));
      }
    }
    return prompts;
  }

  private static String text(JsonObject record, String field, int line, boolean required) {
    if (!record.has(field) || record.get(field).isJsonNull()) {
      if (required) {
        throw new IllegalArgumentException("line " + line + ": \"" + field + "\" is required");
      }
      return "";
    }
    if (!record.get(field).isJsonPrimitive()
        || !record.get(field).getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException(
          "line " + line + ": \"" + field + "\" must be a string but was " + record.get(field));
    }
    return record.get(field).getAsString();
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
