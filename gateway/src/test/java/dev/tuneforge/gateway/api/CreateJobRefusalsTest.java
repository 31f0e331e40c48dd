package dev.tuneforge.gateway.api;

import static dev.tuneforge.gateway.api.Callers.acme;
import static dev.tuneforge.gateway.api.Callers.globex;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.testing.RealStackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/fine_tuning/jobs} refuses at create time, with the request's own param, every
 * invalid request and every value the trainer could not run (nothing is published for them).
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class CreateJobRefusalsTest {
  @Inject ObjectStore store;
  String file;

  @BeforeEach
  void seed() {
    file = FilesAndTenantsTest.baseAndTrainingFile(store);
  }

  @Test
  void invalidRequestsNameTheParam() {
    String other = FilesAndTenantsTest.upload(globex(), "theirs.jsonl", FilesAndTenantsTest.CHAT);
    Map<String, String[]> cases =
        Map.of(
            "{\"training_file\": \"%s\"}",
            new String[] {"model", "model is required"},
            "{\"model\": \"tiny-llama\", \"training_file\": \"%s\", \"epochs\": 3}",
            new String[] {"epochs", "unknown field \"epochs\""},
            "{\"model\": \"nope\", \"training_file\": \"%s\"}",
            new String[] {"model", "model \"nope\" is not registered"},
            "{\"model\": \"../etc\", \"training_file\": \"%s\"}",
            new String[] {"model", "must be a registered name or an s3:// URL"},
            "{\"model\": \"tiny-llama\", \"training_file\": \"" + other + "\"}",
            new String[] {"training_file", "No such file: " + other},
            "{\"model\": \"tiny-llama\", \"training_file\": \"%s\", \"method\": {\"type\": \"rlhf\"}}",
            new String[] {
              "method.type",
              "is not one of supervised|dpo|online_dpo|ppo|reward_model|best_of_n|self_instruct|constitutional_ai"
            },
            "{\"model\": \"tiny-llama\", \"training_file\": \"%s\", \"method\": {\"type\": \"supervised\", \"supervised\": {\"hyperparameters\": {\"n_epochs\": \"many\"}}}}",
            new String[] {
              "method.supervised.hyperparameters.n_epochs",
              "method.supervised.hyperparameters.n_epochs must be a number but was \"many\""
            },
            "{\"model\": \"tiny-llama\", \"training_file\": \"%s\", \"method\": {\"type\": \"supervised\", \"supervised\": {\"hyperparameters\": {\"beta\": 0.1}}}}",
            new String[] {"method.supervised.hyperparameters.beta", "unknown setting \"beta\""},
            "{\"model\": \"tiny-llama\", \"training_file\": \"%s\", \"adapter\": {\"type\": \"lora\", \"r\": \"big\"}}",
            new String[] {"adapter.r", "adapter.r must be an integer but was \"big\""},
            "{\"model\": \"tiny-llama\", \"training_file\": \"%s\", \"suffix\": \"a/b\"}",
            new String[] {"suffix", "suffix must be up to 64 letters"});
    cases.forEach(
        (template, expected) ->
            acme()
                .contentType(ContentType.JSON)
                .body(template.contains("%s") ? template.formatted(file) : template)
                .post("/v1/fine_tuning/jobs")
                .then()
                .statusCode(400)
                .body("error.param", equalTo(expected[0]))
                .body("error.message", containsString(expected[1]))
                .body("error.type", equalTo("invalid_request_error")));
  }

  /**
   * The values the trainer would refuse, or could never finish, are refused at create time with the
   * request's own param (issue 15's list): none of them reaches training.requests.
   */
  @Test
  void valuesTheTrainerCannotRunAreRefusedAtCreate() {
    String sft =
        "\"method\": {\"type\": \"supervised\", \"supervised\": {\"hyperparameters\": %s}}";
    String h = "method.supervised.hyperparameters.";
    String[][] cases = {
      {sft.formatted("{\"n_epochs\": 0}"), h + "n_epochs", "must be a number > 0 and <= 1000"},
      {sft.formatted("{\"n_epochs\": -1}"), h + "n_epochs", "but was -1.0"},
      {sft.formatted("{\"n_epochs\": \"NaN\"}"), h + "n_epochs", "but was NaN"},
      {sft.formatted("{\"n_epochs\": \"Infinity\"}"), h + "n_epochs", "but was Infinity"},
      {sft.formatted("{\"n_epochs\": 1e308}"), h + "n_epochs", "<= 1000"},
      {sft.formatted("{\"max_steps\": 1000000000000}"), h + "max_steps", "[-1, 10000000]"},
      {sft.formatted("{\"batch_size\": 0}"), h + "batch_size", "[1, 4096]"},
      {sft.formatted("{\"batch_size\": 1000000000}"), h + "batch_size", "[1, 4096]"},
      {sft.formatted("{\"learning_rate\": -1}"), h + "learning_rate", "> 0 and <= 1"},
      {sft.formatted("{\"learning_rate\": 1e6}"), h + "learning_rate", "> 0 and <= 1"},
      {sft.formatted("{\"max_grad_norm\": \"NaN\"}"), h + "max_grad_norm", "finite"},
      {sft.formatted("{\"warmup_ratio\": 2}"), h + "warmup_ratio", "[0, 1)"},
      {sft.formatted("{\"lr_scheduler_type\": \"bogus\"}"), h + "lr_scheduler_type", "one of"},
      {sft.formatted("{\"adam_beta1\": 1.0}"), h + "adam_beta1", "must be a number in [0, 1)"},
      {sft.formatted("{\"adam_epsilon\": 0}"), h + "adam_epsilon", "must be a number > 0"},
      {sft.formatted("{\"bf16\": true}"), h + "bf16", "no bfloat16 dtype"},
      {"\"adapter\": {\"type\": \"lora\", \"r\": -4}", "adapter.r", "[1, 4096]"},
      {
        "\"adapter\": {\"type\": \"lora\", \"lora_dropout\": 1.5}", "adapter.lora_dropout", "[0, 1)"
      },
      {
        "\"adapter\": {\"type\": \"lora\", \"target_modules\": [\"no_such_proj\"]}",
        "adapter.target_modules",
        "\"no_such_proj\", which no supported model has"
      },
      {
        "\"adapter\": {\"type\": \"qlora\", \"blocksize\": 100}",
        "adapter.blocksize",
        "one of 64|128|256|512|1024|2048|4096"
      },
      {
        "\"adapter\": {\"type\": \"lora\", \"init_lora_weights\": \"pissa\"}",
        "adapter.init_lora_weights",
        "one of true|gaussian"
      },
      {
        "\"adapter\": {\"type\": \"adalora\", \"r\": 4}",
        "adapter.r",
        "adapter.r is not used by AdaLoRA (init_r sets the rank)"
      },
      {
        "\"adapter\": {\"type\": \"adalora\", \"init_r\": 4, \"target_r\": 6}",
        "adapter.target_r",
        "must be at most init_r 4"
      },
      {
        "\"adapter\": {\"type\": \"adalora\", \"total_step\": 10, \"tinit\": 8, \"tfinal\": 2}",
        "adapter.tinit",
        "the budget needs steps to fall"
      },
      {"\"adapter\": {\"type\": \"adalora\", \"beta1\": 1.5}", "adapter.beta1", "(0, 1)"},
      {
        "\"adapter\": {\"type\": \"prefix\", \"prompt_tuning_init\": \"TEXT\"}",
        "adapter.prompt_tuning_init",
        "is prompt tuning's; adapter.type prefix does not take it"
      },
      {
        "\"adapter\": {\"type\": \"prefix\", \"encoder_hidden_size\": 64}",
        "adapter.encoder_hidden_size",
        "set prefix_projection true"
      },
      {
        "\"adapter\": {\"type\": \"prompt\", \"prompt_tuning_init\": \"TEXT\"}",
        "adapter.prompt_tuning_init_text",
        "TEXT needs a non-empty"
      },
      {
        "\"adapter\": {\"type\": \"prompt\", \"prompt_tuning_init_text\": \"hi\"}",
        "adapter.prompt_tuning_init_text",
        "only used with prompt_tuning_init TEXT"
      },
      {
        "\"adapter\": {\"type\": \"prompt\", \"num_virtual_tokens\": 0}",
        "adapter.num_virtual_tokens",
        "[1, 4096]"
      },
      {
        "\"adapter\": {\"type\": \"prompt\", \"prompt_tuning_init\": \"ZEROS\"}",
        "adapter.prompt_tuning_init",
        "one of RANDOM|TEXT|SAMPLE_VOCAB"
      },
      {
        "\"adapter\": {\"type\": \"prompt\", \"prefix_projection\": true}",
        "adapter.prefix_projection",
        "is prefix tuning's; adapter.type prompt does not take it"
      },
      {
        "\"adapter\": {\"type\": \"prompt\"}, " + sft.formatted("{\"packing\": true}"),
        h + "packing",
        "not available with prompt tuning"
      },
      {
        "\"adapter\": {\"type\": \"ia3\", \"target_modules\": [\"no_such_proj\"]}",
        "adapter.target_modules",
        "\"no_such_proj\", which no supported model has"
      },
      {"\"adapter\": \"lora\"", "adapter", "adapter must be an object"},
      {"\"integrations\": [{\"type\": \"wandb\"}]", "integrations", "not supported"},
      {"\"method\": {\"a\": 1}", "method.a", "does not belong"},
      {"\"method\": {\"type\": null}", "method.type", "must be a string but was null"},
      {
        "\"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\": {\"beta\": 0}}}",
        "method.dpo.hyperparameters.beta",
        "> 0"
      },
      {
        "\"method\": {\"type\": \"online_dpo\"}",
        "method.online_dpo.hyperparameters.reward_model",
        "method.online_dpo.hyperparameters.reward_model is required, or judge_model: the name of"
      },
      {
        "\"method\": {\"type\": \"online_dpo\", \"online_dpo\": {\"hyperparameters\":"
            + " {\"reward_model\": \"rm\", \"judge_model\": \"tiny-llama\"}}}",
        "method.online_dpo.hyperparameters.judge_model",
        "cannot be set with reward_model"
      },
      {
        "\"method\": {\"type\": \"online_dpo\", \"online_dpo\": {\"hyperparameters\":"
            + " {\"judge_model\": \"tiny-llama\", \"judge_template\": \"{prompt} {first}\"}}}",
        "method.online_dpo.hyperparameters.judge_template",
        "must hold {prompt}, {first} and {second}; it has no {second}"
      },
      {
        "\"method\": {\"type\": \"online_dpo\", \"online_dpo\": {\"hyperparameters\":"
            + " {\"judge_model\": \"tiny-llama\", \"missing_eos_penalty\": 1}}}",
        "method.online_dpo.hyperparameters.missing_eos_penalty",
        "a judge_model gives verdicts, not scores"
      },
      {
        "\"method\": {\"type\": \"online_dpo\", \"online_dpo\": {\"hyperparameters\":"
            + " {\"judge_model\": \"no-such-judge\"}}}",
        "method.online_dpo.hyperparameters.judge_model",
        "judge_model \"no-such-judge\" is not registered: no models/no-such-judge/config.json"
      },
      {
        "\"method\": {\"type\": \"online_dpo\", \"online_dpo\": {\"hyperparameters\":"
            + " {\"reward_model\": \"rm\", \"judge_template\": \"{prompt}{first}{second}\"}}}",
        "method.online_dpo.hyperparameters.judge_template",
        "set judge_model to use it"
      },
      {
        "\"method\": {\"type\": \"ppo\"}",
        "method.ppo.hyperparameters.reward_model",
        "method.ppo.hyperparameters.reward_model is required"
      },
      {
        "\"method\": {\"type\": \"online_dpo\", \"online_dpo\": {\"hyperparameters\":"
            + " {\"reward_model\": \"rm\", \"loss_type\": \"hinge\"}}}",
        "method.online_dpo.hyperparameters.loss_type",
        "one of sigmoid|ipo"
      },
      {
        "\"method\": {\"type\": \"online_dpo\", \"online_dpo\": {\"hyperparameters\":"
            + " {\"reward_model\": \"rm\", \"max_new_tokens\": 0}}}",
        "method.online_dpo.hyperparameters.max_new_tokens",
        "[1, 65536]"
      },
      {
        "\"method\": {\"type\": \"online_dpo\", \"online_dpo\": {\"hyperparameters\":"
            + " {\"reward_model\": \"rm\", \"packing\": true}}}",
        "method.online_dpo.hyperparameters.packing",
        "is supervised fine-tuning's; method online_dpo does not use it"
      },
      {"\"dataset\": {\"validation_split\": 2}", "dataset.validation_split", "[0, 1)"},
      {
        sft.formatted("{\"per_device_eval_batch_size\": 16}"),
        h + "per_device_eval_batch_size",
        "is not supported: evaluation runs in batches of per_device_train_batch_size"
      },
      {
        "\"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\": {\"max_prompt_length\":"
            + " 4096}}}",
        "method.dpo.hyperparameters.max_prompt_length",
        "must be below max_seq_length 1024"
      },
    };
    for (String[] c : cases) {
      acme()
          .contentType(ContentType.JSON)
          .body("{\"model\": \"tiny-llama\", \"training_file\": \"" + file + "\", " + c[0] + "}")
          .post("/v1/fine_tuning/jobs")
          .then()
          .statusCode(400)
          .body("error.param", equalTo(c[1]))
          .body("error.message", containsString(c[2]))
          .body("error.message", containsString(c[1]));
    }
  }
}
