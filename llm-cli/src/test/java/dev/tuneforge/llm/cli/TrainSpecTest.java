package dev.tuneforge.llm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.adapter.LoraSettings;
import dev.tuneforge.llm.checkpoint.TinyLlama;
import dev.tuneforge.llm.recipe.OptimizerSettings;
import dev.tuneforge.llm.run.MethodSettings;
import dev.tuneforge.llm.run.Parameterization;
import dev.tuneforge.llm.run.TrainingJob;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spec file is one reader of {@link TrainingJob}: each key lands in its typed setting. */
class TrainSpecTest {
  @TempDir static Path dir;

  @BeforeAll
  static void base() throws Exception {
    TinyLlama.write(dir.resolve("base"), 3, TinyLlama.Size.DEFAULT);
    Files.writeString(dir.resolve("sft.jsonl"), "{\"prompt\":\"a\",\"completion\":\"b\"}\n");
  }

  private static Path spec(String name, String json) throws Exception {
    Path file = dir.resolve(name + ".json");
    Files.writeString(
        file,
        "{\"model\":\""
            + dir.resolve("base")
            + "\",\"train_file\":\""
            + dir.resolve("sft.jsonl")
            + "\",\"output_dir\":\""
            + dir.resolve("out-" + name)
            + "\",\"max_steps\":4,\"per_device_train_batch_size\":4,\"logging_steps\":1"
            + json
            + "}");
    return file;
  }

  @Test
  void theSpecFileReadsIntoTheTypedJob() throws Exception {
    TrainingJob job =
        TrainSpec.read(
            spec(
                "qlora",
                ",\"method\":\"qlora\",\"bnb_4bit_blocksize\":128,\"bnb_4bit_use_double_quant\":true,"
                    + "\"bnb_4bit_compute_dtype\":\"float32\",\"adam_beta1\":0.8,"
                    + "\"adam_epsilon\":1e-6,\"max_seq_length\":64,\"lora\":{\"r\":4,"
                    + "\"init_lora_weights\":\"gaussian\"}"));
    Parameterization.Adapted adapted = (Parameterization.Adapted) job.parameterization();
    assertEquals(
        new Parameterization.BaseWeights.Nf4(128, true, ai.djl.ndarray.types.DataType.FLOAT32),
        adapted.base());
    LoraSettings lora = (LoraSettings) adapted.adapter();
    assertEquals(4, lora.r());
    assertEquals("gaussian", lora.initLoraWeights());
    assertEquals(new OptimizerSettings(0.8, 0.999, 1e-6), job.optimizer());
    assertEquals(0.3, job.trainer().maxGradNorm()); // QLoRA's default clip
    assertEquals(64, job.data().maxSeqLength());
    assertEquals(32, job.data().promptLimit());
    assertTrue(job.method() instanceof MethodSettings.Sft);

    TrainingJob half = TrainSpec.read(spec("half", ",\"torch_dtype\":\"float16\""));
    assertEquals(
        new Parameterization.BaseWeights.Dense(ai.djl.ndarray.types.DataType.FLOAT16),
        ((Parameterization.Adapted) half.parameterization()).base());
    IllegalArgumentException ia3Half =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TrainSpec.read(spec("ia3half", ",\"method\":\"ia3\",\"torch_dtype\":\"float16\"")));
    assertTrue(
        ia3Half.getMessage().contains("method ia3 keeps its base in float32"),
        ia3Half.getMessage());
    IllegalArgumentException blocks =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TrainSpec.read(spec("blocks", ",\"method\":\"qlora\",\"bnb_4bit_blocksize\":100")));
    assertTrue(blocks.getMessage().contains("blocksize must be one of"), blocks.getMessage());
    IllegalArgumentException beta =
        assertThrows(
            IllegalArgumentException.class,
            () -> TrainSpec.read(spec("beta", ",\"adam_beta2\":1.0")));
    assertTrue(beta.getMessage().contains("adam_beta2 must be in [0, 1)"), beta.getMessage());
  }
}
