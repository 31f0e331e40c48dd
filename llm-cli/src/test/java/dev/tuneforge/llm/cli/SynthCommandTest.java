package dev.tuneforge.llm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.synth.ConstitutionalAi;
import dev.tuneforge.llm.synth.SelfInstruct;
import dev.tuneforge.llm.synth.SynthOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./tuneforge model synth}, in-process: both generators write their files with the manifest
 * last, and the Constitutional AI preference file is the training file of a DPO run.
 */
class SynthCommandTest {
  @TempDir Path dir;

  @Test
  void selfInstructAndConstitutionalAiWriteTrainingFiles() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    Files.write(
        dir.resolve("seeds.jsonl"),
        List.of(
            "{\"instruction\":\"Give three tips for staying healthy.\",\"output\":\"Sleep.\"}",
            "{\"instruction\":\"Translate the sentence.\",\"input\":\"Hi\",\"output\":\"Salut\"}"));
    var selfInstruct =
        ModelCommandTest.run(
            "synth",
            "self-instruct",
            "--model",
            dir.resolve("base").toString(),
            "--seeds",
            dir.resolve("seeds.jsonl").toString(),
            "--out",
            dir.resolve("si").toString(),
            "--target-count",
            "3",
            "--max-rounds",
            "2",
            "--max-new-tokens",
            "16");
    assertEquals(0, selfInstruct.exitCode(), selfInstruct.err());
    assertTrue(SynthOutput.complete(dir.resolve("si/final")));
    assertTrue(Files.exists(dir.resolve("si/final").resolve(SelfInstruct.OUTPUT)));
    assertTrue(
        Files.readString(dir.resolve("si/final/stats.json")).contains("\"rouge_threshold\""));

    Files.write(
        dir.resolve("prompts.jsonl"),
        List.of("{\"prompt\":\"AB=\"}", "{\"prompt\":\"CD=\"}", "{\"prompt\":\"EF=\"}"));
    var cai =
        ModelCommandTest.run(
            "synth",
            "constitutional-ai",
            "--model",
            dir.resolve("base").toString(),
            "--prompts",
            dir.resolve("prompts.jsonl").toString(),
            "--out",
            dir.resolve("cai").toString(),
            "--batch-size",
            "2",
            "--max-new-tokens",
            "8");
    assertEquals(0, cai.exitCode(), cai.err());
    Path preference = dir.resolve("cai/final").resolve(ConstitutionalAi.PREFERENCE_OUTPUT);
    assertTrue(SynthOutput.complete(dir.resolve("cai/final")));
    // the generated pairs train a DPO run like any preference file
    Path spec = dir.resolve("dpo.json");
    Files.writeString(
        spec,
        "{\"model\":\""
            + dir.resolve("base")
            + "\",\"train_file\":\""
            + preference
            + "\",\"method\":\"lora\",\"trainer\":\"dpo\",\"output_dir\":\""
            + dir.resolve("dpo")
            + "\",\"max_steps\":2,\"per_device_train_batch_size\":2,\"logging_steps\":1}");
    var dpo = ModelCommandTest.run("train", "--config", spec.toString());
    long pairs = Files.readAllLines(preference).stream().filter(l -> !l.isBlank()).count();
    assertEquals(0, dpo.exitCode(), dpo.err() + " (" + pairs + " pairs)");
    assertTrue(Files.exists(dir.resolve("dpo/final/adapter_config.json")));
  }
}
