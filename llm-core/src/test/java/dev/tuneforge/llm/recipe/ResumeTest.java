package dev.tuneforge.llm.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run interrupted after a checkpoint and resumed from it logs exactly the losses of the same run
 * uninterrupted (CPU, same seed): weights, AdamW moments, step, data position and dropout masks all
 * come back. LoRA dropout is on so random state matters.
 */
class ResumeTest {
  @TempDir Path dir;
  static final ReverseTask TASK = new ReverseTask(300, 10, 3, 11);
  static final SftSettings SETTINGS =
      new SftSettings(5e-3, 8, 2, 20, 0, 1.0, "cosine", 0.1, 0, 0.01, 1, 0, 17);

  /** Trains 20 steps; the listener records every step's loss and may stop the run. */
  private List<Double> run(Path checkpoints, Path resumeFrom, int crashAfter) {
    LoraAdapter adapter =
        LoraAdapter.create(new LoraSettings(8, 16, 0.1, LoraSettings.ALL_LINEAR, false), 9);
    adapter.setTraining(true);
    List<Double> losses = new ArrayList<>();
    try (LlamaModel model =
        LlamaModel.load(
            dir.resolve("base"), Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      adapter.setTraining(true);
      SftRecipe recipe = new SftRecipe(model, adapter.parameters(), SETTINGS);
      recipe.train(
          ReverseTask.examples(TASK.train),
          List.of(),
          p -> {
            losses.add(p.loss());
            if (p.step() == crashAfter) {
              throw new IllegalStateException("simulated crash after step " + crashAfter);
            }
          },
          new SftRecipe.Checkpointing(checkpoints, 10, 2),
          resumeFrom);
    }
    return losses;
  }

  /**
   * AdaLoRA as above: its importance EMAs and rank pattern come back from the checkpoint, so the
   * resumed run makes the final allocation (step 11, the first after the resume) from the same
   * history and logs the same losses; without them there is no history to allocate from.
   */
  private List<Object> runAdaLora(Path checkpoints, Path resumeFrom, int crashAfter) {
    var adapter =
        dev.tuneforge.llm.adapter.adalora.AdaLoraAdapter.create(
            new dev.tuneforge.llm.adapter.adalora.AdaLoraSettings(
                6,
                2,
                2,
                9,
                2,
                0.85,
                0.85,
                0.5,
                0,
                16,
                0.0,
                LoraSettings.ALL_LINEAR,
                java.util.Map.of()),
            9);
    List<Object> record = new ArrayList<>();
    try (LlamaModel model =
        LlamaModel.load(
            dir.resolve("base"), Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
      new SftRecipe(model, adapter.parameters(), SETTINGS)
          .withAdapterTraining(AdapterTraining.of(adapter))
          .train(
              ReverseTask.examples(TASK.train),
              List.of(),
              p -> {
                record.add(p.loss());
                if (p.step() == crashAfter) {
                  throw new IllegalStateException("simulated crash after step " + crashAfter);
                }
              },
              new SftRecipe.Checkpointing(checkpoints, 10, 2),
              resumeFrom);
      record.add(adapter.rankPattern());
    }
    return record;
  }

  @Test
  void aResumedAdaLoraRunAllocatesAsTheUninterruptedOne() {
    TinyLlama.write(dir.resolve("base"), 2, TinyLlama.Size.DEFAULT);
    List<Object> uninterrupted = runAdaLora(dir.resolve("a"), null, -1);
    assertThrows(IllegalStateException.class, () -> runAdaLora(dir.resolve("b"), null, 13));
    Path checkpoint = TrainerCheckpoint.latest(dir.resolve("b")).orElseThrow();
    assertTrue(Files.exists(checkpoint.resolve("adapter_state.safetensors")));
    List<Object> resumed = runAdaLora(dir.resolve("b"), checkpoint, -1);
    assertEquals(uninterrupted.subList(10, 21), resumed, "losses of steps 11..20, the pattern");
  }

  @Test
  void resumingFromAMidRunCheckpointReplaysTheUninterruptedLosses() {
    TinyLlama.write(dir.resolve("base"), 2, TinyLlama.Size.DEFAULT);
    List<Double> uninterrupted = run(dir.resolve("a"), null, -1);
    assertEquals(20, uninterrupted.size());

    assertThrows(IllegalStateException.class, () -> run(dir.resolve("b"), null, 13));
    Path checkpoint = TrainerCheckpoint.latest(dir.resolve("b")).orElseThrow();
    assertEquals("checkpoint-10", checkpoint.getFileName().toString());
    assertTrue(Files.exists(checkpoint.resolve("trainer_state.json")));

    assertEquals(uninterrupted, run(dir.resolve("c"), null, -1), "same seed, bit-identical losses");

    List<Double> resumed = run(dir.resolve("b"), checkpoint, -1);
    assertEquals(uninterrupted.subList(10, 20), resumed, "losses of steps 11..20");
    assertEquals(10, TrainerCheckpoint.state(checkpoint).logHistory().size());
  }
}
