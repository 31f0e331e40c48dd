package dev.tuneforge.llm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./tuneforge train} with trainer ppo and online_dpo on prompt-only records: a reward model
 * trained by the same command is their judge (a directory), or a causal LM is online DPO's judge
 * model; their blocks take TRL's names and are refused by name where they do not belong.
 */
class RlTrainCommandTest {
  @TempDir static Path dir;

  @BeforeAll
  static void baseAndRewardModel() throws Exception {
    ModelCommandTest.run("init-tiny", "--out", dir.resolve("base").toString());
    List<String> pairs = new ArrayList<>();
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      pairs.add(TrainCommandTest.reversalPair(i));
      prompts.add("{\"prompt\":\"" + TrainCommandTest.word(i) + "=\"}");
    }
    Files.write(dir.resolve("pairs.jsonl"), pairs);
    Files.write(dir.resolve("prompts.jsonl"), prompts);
    ModelCommandTest.Result rm =
        train("rm", "pairs.jsonl", ",\"trainer\":\"reward_model\",\"method\":\"full\"");
    assertEquals(0, rm.exitCode(), rm.err());
  }

  private static ModelCommandTest.Result train(String name, String data, String extra)
      throws Exception {
    Path spec = dir.resolve(name + ".json");
    Files.writeString(
        spec,
        "{\"model\":\""
            + dir.resolve("base")
            + "\",\"train_file\":\""
            + dir.resolve(data)
            + "\",\"output_dir\":\""
            + dir.resolve("out-" + name)
            + "\",\"max_steps\":3,\"per_device_train_batch_size\":4,\"logging_steps\":1"
            + extra
            + "}");
    return ModelCommandTest.run("train", "--config", spec.toString());
  }

  private static String rewardModel() {
    return dir.resolve("out-rm/final").toString();
  }

  @Test
  void ppoTrainsALoraPolicyAgainstTheRewardModel() throws Exception {
    ModelCommandTest.Result ppo =
        train(
            "ppo",
            "prompts.jsonl",
            ",\"trainer\":\"ppo\",\"learning_rate\":1e-3,\"ppo\":{\"reward_model\":\""
                + rewardModel()
                + "\",\"response_length\":4,\"num_ppo_epochs\":2,\"kl_estimator\":\"k3\"}");
    assertEquals(0, ppo.exitCode(), ppo.err());
    assertTrue(ppo.err().contains("step 3/3"), ppo.err());
    assertTrue(ppo.out().contains("saved PEFT adapter"), ppo.out());
    assertTrue(Files.exists(dir.resolve("out-ppo/final/adapter_model.safetensors")));
  }

  @Test
  void onlineDpoIsJudgedByARewardModelOrByAJudgeModel() throws Exception {
    ModelCommandTest.Result byReward =
        train(
            "online-rm",
            "prompts.jsonl",
            ",\"trainer\":\"online_dpo\",\"learning_rate\":1e-3,\"online_dpo\":{\"reward_model\":\""
                + rewardModel()
                + "\",\"max_new_tokens\":4,\"beta\":0.2}");
    assertEquals(0, byReward.exitCode(), byReward.err());
    assertTrue(byReward.err().contains("step 3/3"), byReward.err());
    assertTrue(Files.exists(dir.resolve("out-online-rm/final/adapter_model.safetensors")));
    ModelCommandTest.Result byModel =
        train(
            "online-judge",
            "prompts.jsonl",
            ",\"trainer\":\"online_dpo\",\"method\":\"full\",\"online_dpo\":{\"judge_model\":\""
                + dir.resolve("base")
                + "\",\"judge_template\":\"0 or 1? {prompt} 0: {first} 1: {second}\","
                + "\"max_new_tokens\":4}");
    assertEquals(0, byModel.exitCode(), byModel.err());
    assertTrue(byModel.out().contains("saved model"), byModel.out());
  }

  @Test
  void theirBlocksAreRefusedByNameWhereTheyDoNotBelong() throws Exception {
    String[][] cases = {
      {",\"ppo\":{\"reward_model\":\"x\"}", "the ppo block is for trainer ppo, not sft"},
      {",\"trainer\":\"ppo\"", "ppo.reward_model is required"},
      {",\"trainer\":\"ppo\",\"ppo\":{\"kl_coeff\":0.1}", "unknown key \"ppo.kl_coeff\""},
      {",\"trainer\":\"online_dpo\"", "online_dpo takes one judge"},
      {
        ",\"trainer\":\"online_dpo\",\"online_dpo\":{\"reward_model\":\"" + dir + "\"}",
        "online_dpo.reward_model " + dir + " is not a model directory"
      },
      {
        ",\"trainer\":\"online_dpo\",\"online_dpo\":{\"reward_model\":\"a\",\"judge_model\":\"b\"}",
        "not both"
      },
      {
        ",\"trainer\":\"online_dpo\",\"online_dpo\":{\"judge_model\":\""
            + dir.resolve("base")
            + "\",\"missing_eos_penalty\":1}",
        "missing_eos_penalty adjusts a reward model's scores"
      },
    };
    for (String[] c : cases) {
      ModelCommandTest.Result refused = train("refused", "prompts.jsonl", c[0]);
      assertEquals(1, refused.exitCode(), c[0]);
      assertTrue(refused.err().contains(c[1]), c[0] + " -> " + refused.err());
    }
  }
}
