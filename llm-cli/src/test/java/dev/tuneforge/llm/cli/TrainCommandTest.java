package dev.tuneforge.llm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./tuneforge train --config spec.json}, in-process. */
class TrainCommandTest {
  @TempDir Path dir;

  private Path spec(String method, String extra) throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      String word = "" + (char) ('A' + i % 7) + (char) ('A' + i % 5) + (char) ('A' + i % 3);
      lines.add(
          "{\"prompt\":\""
              + word
              + "=\",\"completion\":\""
              + new StringBuilder(word).reverse()
              + "\"}");
    }
    Files.write(dir.resolve("train.jsonl"), lines);
    Path spec = dir.resolve(method + ".json");
    Files.writeString(
        spec,
        "{\"model\":\""
            + dir.resolve("base")
            + "\",\"train_file\":\""
            + dir.resolve("train.jsonl")
            + "\",\"method\":\""
            + method
            + "\",\"output_dir\":\""
            + dir.resolve("out-" + method)
            + "\",\"max_steps\":6,\"per_device_train_batch_size\":8,\"save_steps\":3,\"logging_steps\":1"
            + extra
            + "}");
    return spec;
  }

  /** The i-th three-letter word of the reversal task. */
  static String word(int i) {
    return "" + (char) ('A' + i % 7) + (char) ('A' + i % 5) + (char) ('A' + i % 3);
  }

  /** A preference record of the reversal task: the reversed word chosen, the word rejected. */
  static String reversalPair(int i) {
    String word = word(i);
    String reversed = new StringBuilder(word).reverse().toString();
    return "{\"prompt\":\""
        + word
        + "=\",\"chosen\":\""
        + reversed
        + "\",\"rejected\":\""
        + word
        + "\"}";
  }

  private Path preferenceSpec(String name, String extra) throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      lines.add(reversalPair(i));
    }
    Files.write(dir.resolve("pairs.jsonl"), lines);
    Path spec = dir.resolve(name + ".json");
    Files.writeString(
        spec,
        "{\"model\":\""
            + dir.resolve("base")
            + "\",\"train_file\":\""
            + dir.resolve("pairs.jsonl")
            + "\",\"output_dir\":\""
            + dir.resolve("out-" + name)
            + "\",\"max_steps\":4,\"per_device_train_batch_size\":4,\"logging_steps\":1"
            + extra
            + "}");
    return spec;
  }

  /**
   * trainer dpo and reward_model run the same job spec on preference records: DPO saves a PEFT
   * adapter (its reference is the adapter switched off), the reward model a sequence-classification
   * model; DPO's settings under another trainer are refused by name.
   */
  @Test
  void dpoAndRewardModelRunFromTheSameSpec() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result dpo =
        ModelCommandTest.run(
            "train",
            "--config",
            preferenceSpec(
                    "dpo",
                    ",\"trainer\":\"dpo\",\"method\":\"ia3\",\"beta\":0.2,\"learning_rate\":1e-2")
                .toString());
    assertEquals(0, dpo.exitCode(), dpo.err());
    assertTrue(dpo.err().contains("step 4/4"), dpo.err());
    assertTrue(dpo.out().contains("saved PEFT adapter"), dpo.out());
    String config = Files.readString(dir.resolve("out-dpo/final/adapter_config.json"));
    assertTrue(config.contains("\"peft_type\": \"IA3\""), config);

    ModelCommandTest.Result reward =
        ModelCommandTest.run(
            "train",
            "--config",
            preferenceSpec(
                    "rm",
                    ",\"trainer\":\"reward_model\",\"method\":\"lora\",\"learning_rate\":1e-3,"
                        + "\"center_rewards_coefficient\":0.01")
                .toString());
    assertEquals(0, reward.exitCode(), reward.err());
    assertTrue(reward.out().contains("saved reward model"), reward.out());
    String rm = Files.readString(dir.resolve("out-rm/final/config.json"));
    assertTrue(rm.contains("LlamaForSequenceClassification"), rm);

    ModelCommandTest.Result refused =
        ModelCommandTest.run(
            "train", "--config", preferenceSpec("bad", ",\"beta\":0.2").toString());
    assertEquals(1, refused.exitCode());
    assertTrue(
        refused.err().contains("beta, loss_type and label_smoothing are DPO's"), refused.err());
    ModelCommandTest.Result ignored =
        ModelCommandTest.run(
            "train",
            "--config",
            preferenceSpec("fp16", ",\"trainer\":\"dpo\",\"fp16\":true").toString());
    assertEquals(1, ignored.exitCode());
    assertTrue(
        ignored.err().contains("fp16 is supervised fine-tuning's; trainer dpo does not use it"),
        ignored.err());
  }

  @Test
  void loraRunWritesCheckpointsAndAPeftAdapterAndResumes() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result result =
        ModelCommandTest.run("train", "--config", spec("lora", "").toString());
    assertEquals(0, result.exitCode(), result.err());
    assertTrue(result.err().contains("step 6/6"), result.err());
    Path out = dir.resolve("out-lora");
    assertTrue(Files.exists(out.resolve("final/adapter_config.json")));
    assertTrue(Files.exists(out.resolve("final/adapter_model.safetensors")));
    assertTrue(Files.exists(out.resolve("checkpoint-6/trainer_state.json")));

    ModelCommandTest.Result resumed =
        ModelCommandTest.run("train", "--config", spec("lora", "").toString(), "--resume");
    assertEquals(0, resumed.exitCode(), resumed.err());
    assertTrue(
        !resumed.err().contains("step 1/6"),
        "a finished run resumes at its last step: " + resumed.err());
  }

  /**
   * method ia3 trains PEFT's default IA3 for the model type (k_proj, v_proj, down_proj for llama),
   * saves it in PEFT's layout, and the CLI scores and merges with it.
   */
  @Test
  void ia3RunSavesAPeftIa3AdapterThatScoresAndMerges() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result result =
        ModelCommandTest.run(
            "train", "--config", spec("ia3", ",\"learning_rate\":3e-2").toString());
    assertEquals(0, result.exitCode(), result.err());
    Path adapter = dir.resolve("out-ia3/final");
    String config = Files.readString(adapter.resolve("adapter_config.json"));
    assertTrue(config.contains("\"peft_type\": \"IA3\""), config);
    assertTrue(config.contains("\"down_proj\""), config);
    ModelCommandTest.Result score =
        ModelCommandTest.run(
            "score",
            "--model",
            dir.resolve("base").toString(),
            "--adapter",
            adapter.toString(),
            "--text",
            "ABC=CBA",
            "--json");
    assertEquals(0, score.exitCode(), score.err());
    ModelCommandTest.Result merged =
        ModelCommandTest.run(
            "merge",
            "--model",
            dir.resolve("base").toString(),
            "--adapter",
            adapter.toString(),
            "--out",
            dir.resolve("merged-ia3").toString());
    assertEquals(0, merged.exitCode(), merged.err());
    ModelCommandTest.Result mergedScore =
        ModelCommandTest.run(
            "score",
            "--model",
            dir.resolve("merged-ia3").toString(),
            "--text",
            "ABC=CBA",
            "--json");
    assertEquals(0, mergedScore.exitCode(), mergedScore.err());
    // The merged model scores the text as the base with the adapter does.
    com.google.gson.JsonObject a =
        com.google.gson.JsonParser.parseString(score.out()).getAsJsonObject();
    com.google.gson.JsonObject b =
        com.google.gson.JsonParser.parseString(mergedScore.out()).getAsJsonObject();
    assertEquals(
        a.get("perplexity").getAsDouble(), b.get("perplexity").getAsDouble(), 1e-3, score.out());
  }

  @Test
  void fullRunSavesAHuggingFaceModelThatLoads() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result result =
        ModelCommandTest.run("train", "--config", spec("full", "").toString());
    assertEquals(0, result.exitCode(), result.err());
    ModelCommandTest.Result score =
        ModelCommandTest.run(
            "score",
            "--model",
            dir.resolve("out-full/final").toString(),
            "--text",
            "ABC=CBA",
            "--json");
    assertEquals(0, score.exitCode(), score.err());
  }

  @Test
  void qloraWithDoubleQuantizationTrains() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result result =
        ModelCommandTest.run(
            "train",
            "--config",
            spec(
                    "qlora",
                    ",\"bnb_4bit_use_double_quant\":true,\"packing\":true,\"max_seq_length\":32")
                .toString());
    assertEquals(0, result.exitCode(), result.err());
    assertTrue(Files.exists(dir.resolve("out-qlora/final/adapter_model.safetensors")));
  }

  @Test
  void loraOverAFloat16BaseAndQloraWithFloat32ComputeTrain() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result half =
        ModelCommandTest.run(
            "train", "--config", spec("lora", ",\"torch_dtype\":\"float16\"").toString());
    assertEquals(0, half.exitCode(), half.err());
    assertTrue(half.err().contains("step 6/6"), half.err());
    assertTrue(Files.exists(dir.resolve("out-lora/final/adapter_model.safetensors")));
    ModelCommandTest.Result qlora =
        ModelCommandTest.run(
            "train",
            "--config",
            spec("qlora", ",\"bnb_4bit_compute_dtype\":\"float32\"").toString());
    assertEquals(0, qlora.exitCode(), qlora.err());
    assertTrue(Files.exists(dir.resolve("out-qlora/final/adapter_model.safetensors")));
  }

  @Test
  void bfloat16AndAHalfPrecisionFullRunAreRefusedWithTheReason() throws Exception {
    ModelCommandTest.Result bf16 =
        ModelCommandTest.run(
            "train", "--config", spec("lora", ",\"torch_dtype\":\"bfloat16\"").toString());
    assertEquals(1, bf16.exitCode());
    assertTrue(
        bf16.err().contains("torch_dtype \"bfloat16\" (bfloat16) is not supported"), bf16.err());
    assertTrue(bf16.err().contains("GetScalarTypeFromDType"), bf16.err());
    ModelCommandTest.Result compute =
        ModelCommandTest.run(
            "train", "--config", spec("qlora", ",\"bnb_4bit_compute_dtype\":\"bf16\"").toString());
    assertTrue(
        compute.err().contains("bnb_4bit_compute_dtype \"bf16\" (bfloat16) is not supported"),
        compute.err());
    ModelCommandTest.Result full =
        ModelCommandTest.run(
            "train", "--config", spec("full", ",\"torch_dtype\":\"float16\"").toString());
    assertEquals(1, full.exitCode());
    assertTrue(full.err().contains("full fine-tuning trains every weight in float32"), full.err());
  }

  @Test
  void fp16FullRunTrainsAndSavesAModel() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result result =
        ModelCommandTest.run("train", "--config", spec("full", ",\"fp16\":true").toString());
    assertEquals(0, result.exitCode(), result.err());
    assertTrue(Files.exists(dir.resolve("out-full/final/model.safetensors")));
  }

  /**
   * method prompt trains PEFT prompt tuning (TEXT initialisation from the model's tokenizer), saves
   * PEFT's layout, scores with --adapter as a different model than the base, refuses merge by name,
   * and refuses packing before training.
   */
  @Test
  void promptTuningRunSavesAPeftAdapterThatScoresAndRefusesMerge() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result result =
        ModelCommandTest.run(
            "train",
            "--config",
            spec(
                    "prompt",
                    ",\"learning_rate\":3e-2,\"prompt_learning\":{\"num_virtual_tokens\":6,"
                        + "\"prompt_tuning_init\":\"TEXT\",\"prompt_tuning_init_text\":\"Reverse"
                        + " the word\"}")
                .toString());
    assertEquals(0, result.exitCode(), result.err());
    Path adapter = dir.resolve("out-prompt/final");
    com.google.gson.JsonObject config =
        com.google.gson.JsonParser.parseString(
                Files.readString(adapter.resolve("adapter_config.json")))
            .getAsJsonObject();
    assertEquals("PROMPT_TUNING", config.get("peft_type").getAsString());
    assertEquals("TEXT", config.get("prompt_tuning_init").getAsString());
    assertEquals("Reverse the word", config.get("prompt_tuning_init_text").getAsString());
    assertEquals(6, config.get("num_virtual_tokens").getAsInt());
    ModelCommandTest.Result score =
        ModelCommandTest.run(
            "score",
            "--model",
            dir.resolve("base").toString(),
            "--adapter",
            adapter.toString(),
            "--text",
            "ABC=CBA",
            "--json");
    assertEquals(0, score.exitCode(), score.err());
    ModelCommandTest.Result plain =
        ModelCommandTest.run(
            "score", "--model", dir.resolve("base").toString(), "--text", "ABC=CBA", "--json");
    double tuned =
        com.google.gson.JsonParser.parseString(score.out())
            .getAsJsonObject()
            .get("perplexity")
            .getAsDouble();
    double base =
        com.google.gson.JsonParser.parseString(plain.out())
            .getAsJsonObject()
            .get("perplexity")
            .getAsDouble();
    assertTrue(Math.abs(tuned - base) > 1e-3, "the adapter acts: " + tuned + " vs " + base);
    ModelCommandTest.Result merged =
        ModelCommandTest.run(
            "merge",
            "--model",
            dir.resolve("base").toString(),
            "--adapter",
            adapter.toString(),
            "--out",
            dir.resolve("merged-prompt").toString());
    assertEquals(1, merged.exitCode());
    assertTrue(
        merged.err().contains("PROMPT_TUNING adapter, which cannot be merged"), merged.err());
    ModelCommandTest.Result packed =
        ModelCommandTest.run("train", "--config", spec("prompt", ",\"packing\":true").toString());
    assertEquals(1, packed.exitCode());
    assertTrue(packed.err().contains("packing is not available with prompt tuning"), packed.err());
  }

  /**
   * method prefix trains PEFT prefix tuning through its projection MLP, saves the prefix in PEFT's
   * layout, scores with --adapter, refuses merge, and refuses prompt tuning's settings by name.
   */
  @Test
  void prefixTuningRunSavesAPeftAdapterThatScoresAndRefusesMerge() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result result =
        ModelCommandTest.run(
            "train",
            "--config",
            spec(
                    "prefix",
                    ",\"learning_rate\":1e-2,\"prompt_learning\":{\"num_virtual_tokens\":4,"
                        + "\"prefix_projection\":true,\"encoder_hidden_size\":32}")
                .toString());
    assertEquals(0, result.exitCode(), result.err());
    Path adapter = dir.resolve("out-prefix/final");
    com.google.gson.JsonObject config =
        com.google.gson.JsonParser.parseString(
                Files.readString(adapter.resolve("adapter_config.json")))
            .getAsJsonObject();
    assertEquals("PREFIX_TUNING", config.get("peft_type").getAsString());
    assertTrue(config.get("prefix_projection").getAsBoolean());
    assertEquals(32, config.get("encoder_hidden_size").getAsInt());
    ModelCommandTest.Result score =
        ModelCommandTest.run(
            "score",
            "--model",
            dir.resolve("base").toString(),
            "--adapter",
            adapter.toString(),
            "--text",
            "ABC=CBA",
            "--json");
    assertEquals(0, score.exitCode(), score.err());
    ModelCommandTest.Result merged =
        ModelCommandTest.run(
            "merge",
            "--model",
            dir.resolve("base").toString(),
            "--adapter",
            adapter.toString(),
            "--out",
            dir.resolve("merged-prefix").toString());
    assertEquals(1, merged.exitCode());
    assertTrue(
        merged.err().contains("PREFIX_TUNING adapter, which cannot be merged"), merged.err());
    ModelCommandTest.Result mixed =
        ModelCommandTest.run(
            "train",
            "--config",
            spec("prefix", ",\"prompt_learning\":{\"prompt_tuning_init\":\"TEXT\"}").toString());
    assertEquals(1, mixed.exitCode());
    assertTrue(mixed.err().contains("prompt tuning's; method prefix"), mixed.err());
  }

  /**
   * method adalora trains PEFT's AdaLoRA (total_step from the run), saves the final rank_pattern
   * with the tensors cut to it, scores with --adapter and merges to the same perplexity; LoRA
   * options AdaLoRA does not use are refused by name.
   */
  @Test
  void adaLoraRunSavesItsRankPatternScoresAndMerges() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result result =
        ModelCommandTest.run(
            "train",
            "--config",
            spec(
                    "adalora",
                    ",\"learning_rate\":1e-2,\"adalora\":{\"init_r\":6,\"target_r\":3,"
                        + "\"tinit\":1,\"tfinal\":2,\"deltaT\":1},\"lora\":{\"lora_alpha\":16}")
                .toString());
    assertEquals(0, result.exitCode(), result.err());
    Path adapter = dir.resolve("out-adalora/final");
    com.google.gson.JsonObject config =
        com.google.gson.JsonParser.parseString(
                Files.readString(adapter.resolve("adapter_config.json")))
            .getAsJsonObject();
    assertEquals("ADALORA", config.get("peft_type").getAsString());
    assertEquals(6, config.get("total_step").getAsInt(), "the run's steps");
    var pattern = config.getAsJsonObject("rank_pattern");
    assertEquals(4, pattern.size(), "q_proj and v_proj of both layers: " + pattern);
    long kept =
        pattern.entrySet().stream()
            .flatMap(e -> e.getValue().getAsJsonArray().asList().stream())
            .filter(com.google.gson.JsonElement::getAsBoolean)
            .count();
    assertEquals(3 * 4, kept, "target_r 3 on average: " + pattern);
    ModelCommandTest.Result score =
        ModelCommandTest.run(
            "score",
            "--model",
            dir.resolve("base").toString(),
            "--adapter",
            adapter.toString(),
            "--text",
            "ABC=CBA",
            "--json");
    assertEquals(0, score.exitCode(), score.err());
    ModelCommandTest.Result merged =
        ModelCommandTest.run(
            "merge",
            "--model",
            dir.resolve("base").toString(),
            "--adapter",
            adapter.toString(),
            "--out",
            dir.resolve("merged-adalora").toString());
    assertEquals(0, merged.exitCode(), merged.err());
    ModelCommandTest.Result mergedScore =
        ModelCommandTest.run(
            "score",
            "--model",
            dir.resolve("merged-adalora").toString(),
            "--text",
            "ABC=CBA",
            "--json");
    assertEquals(
        com.google.gson.JsonParser.parseString(score.out())
            .getAsJsonObject()
            .get("perplexity")
            .getAsDouble(),
        com.google.gson.JsonParser.parseString(mergedScore.out())
            .getAsJsonObject()
            .get("perplexity")
            .getAsDouble(),
        1e-3);
    ModelCommandTest.Result rank =
        ModelCommandTest.run(
            "train", "--config", spec("adalora", ",\"lora\":{\"r\":4}").toString());
    assertEquals(1, rank.exitCode());
    assertTrue(rank.err().contains("lora.r is not used by AdaLoRA"), rank.err());
  }

  @Test
  void unknownKeysAndMethodsAreRefusedByName() throws Exception {
    ModelCommandTest.Result typo =
        ModelCommandTest.run(
            "train", "--config", spec("lora", ",\"learning_rat\":1e-4").toString());
    assertEquals(1, typo.exitCode());
    assertTrue(typo.err().contains("unknown key \"learning_rat\""), typo.err());
    ModelCommandTest.Result method =
        ModelCommandTest.run("train", "--config", spec("dpo", "").toString());
    assertTrue(
        method
            .err()
            .contains(
                "method \"dpo\" is not one of full, lora, qlora, ia3, prompt, prefix, adalora"),
        method.err());
  }

  /**
   * PEFT's string forms read as PEFT reads them: "all-linear", and any other string as a regular
   * expression over full module names, which trains and is saved as such; PEFT's rule against
   * combining it with layers_to_transform is refused by name before training.
   */
  @Test
  void targetModulesAsAStringIsReadAsPeftReadsIt() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    ModelCommandTest.Result allLinear =
        ModelCommandTest.run(
            "train",
            "--config",
            spec("lora", ",\"max_steps\":1,\"lora\":{\"target_modules\":\"all-linear\"}")
                .toString());
    assertEquals(0, allLinear.exitCode(), allLinear.err());
    String regexJson = ".*\\\\.1\\\\.self_attn\\\\.q_proj"; // JSON text of .*\.1\.self_attn\.q_proj
    ModelCommandTest.Result regex =
        ModelCommandTest.run(
            "train",
            "--config",
            spec(
                    "lora",
                    ",\"max_steps\":1,\"lora\":{\"target_modules\":\""
                        + regexJson
                        + "\",\"rank_pattern\":{\"q_proj\":2}}")
                .toString());
    assertEquals(0, regex.exitCode(), regex.err());
    try (ai.djl.ndarray.NDManager staging =
        dev.tuneforge.llm.engine.Torch.engine().newBaseManager()) {
      dev.tuneforge.llm.adapter.LoraSettings saved =
          dev.tuneforge.llm.adapter.PeftLora.load(dir.resolve("out-lora/final"), staging)
              .settings();
      assertEquals(".*\\.1\\.self_attn\\.q_proj", saved.rules().targetRegex());
      assertTrue(saved.targets(1, "self_attn.q_proj"));
      assertEquals(false, saved.targets(0, "self_attn.q_proj"));
      assertEquals(2, saved.rank(1, "self_attn.q_proj"));
    }
    ModelCommandTest.Result combined =
        ModelCommandTest.run(
            "train",
            "--config",
            spec("lora", ",\"lora\":{\"target_modules\":\".*q_proj\",\"layers_to_transform\":0}")
                .toString());
    assertEquals(1, combined.exitCode());
    assertTrue(
        combined.err().contains("layers_to_transform and layers_pattern cannot be used when"),
        combined.err());
  }
}
