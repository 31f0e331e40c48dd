package dev.tuneforge.gateway.api;

import static dev.tuneforge.gateway.api.Callers.acme;
import static dev.tuneforge.gateway.api.Callers.globex;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.Topics;
import dev.tuneforge.proto.v1.AdapterConfig;
import dev.tuneforge.proto.v1.DatasetRef;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.TrainingRequested;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/fine_tuning/jobs}: OpenAI- and TRL-named settings become the job spec published
 * on {@code training.requests}; every invalid request is refused with the offending param.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class CreateJobTest {
  private final TestKafka kafka = TestKafka.shared();
  @Inject ObjectStore store;
  String file;

  @BeforeEach
  void seed() {
    file = FilesAndTenantsTest.baseAndTrainingFile(store);
  }

  @Test
  void aJobIsPublishedWithOpenAiAndTrlSettingsMapped() {
    String body =
        """
        {"model": "tiny-llama", "training_file": "%s", "suffix": "support-bot", "seed": 7,
         "metadata": {"team": "platform"},
         "dataset": {"invalid_records": "drop", "near_duplicate_threshold": 0.9,
                     "stratify_by": "label", "chat_template": "chatml"},
         "method": {"type": "supervised", "supervised": {"hyperparameters":
             {"n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": 2,
              "max_seq_length": 256, "lr_scheduler_type": "cosine"}}},
         "adapter": {"type": "qlora", "r": 8, "lora_alpha": 16, "target_modules": "all-linear",
                     "bnb_4bit_use_double_quant": true}}
        """
            .formatted(file);
    String id =
        acme()
            .contentType(ContentType.JSON)
            .body(body)
            .post("/v1/fine_tuning/jobs")
            .then()
            .statusCode(200)
            .body("status", equalTo("validating_files"))
            .body("object", equalTo("fine_tuning.job"))
            .body("model", equalTo("tiny-llama"))
            .extract()
            .path("id");
    assertTrue(id.matches("ftjob-[a-f0-9]{24}"), id);
    acme().get("/v1/fine_tuning/jobs/" + id).then().statusCode(200);
    globex().get("/v1/fine_tuning/jobs/" + id).then().statusCode(404);

    TrainingRequested request =
        kafka
            .awaitEvents(TrainingRequested.class, 1, r -> id.equals(r.getSpec().getJobId()))
            .get(0);
    JobSpec spec = request.getSpec();
    assertEquals("acme", spec.getTenant());
    assertEquals(JobSpec.Method.QLORA, spec.getMethod());
    assertEquals(file, spec.getDataset().getTrainingFile());
    assertEquals(2.0, spec.getHyperparameters().getNumTrainEpochs());
    assertEquals(4e-4, spec.getHyperparameters().getLearningRate(), 1e-12, "2 x 2e-4");
    assertTrue(!spec.getHyperparameters().hasPerDeviceTrainBatchSize(), "auto keeps the default");
    assertEquals(256, spec.getHyperparameters().getMaxSeqLength());
    assertEquals("cosine", spec.getHyperparameters().getLrSchedulerType());
    AdapterConfig adapter = spec.getAdapter();
    assertEquals(AdapterConfig.PeftType.LORA, adapter.getPeftType());
    assertEquals(8, adapter.getLora().getR());
    assertEquals(16.0, adapter.getLora().getLoraAlpha());
    assertEquals(java.util.List.of("all-linear"), adapter.getLora().getTargetModulesList());
    assertTrue(adapter.getQuantization().getLoadIn4Bit());
    assertTrue(adapter.getQuantization().getBnb4BitUseDoubleQuant());
    assertEquals("support-bot", spec.getSuffix());
    assertEquals(7, spec.getSeed());
    assertEquals(Map.of("team", "platform"), spec.getMetadataMap());
    assertEquals("drop", spec.getDataset().getInvalidRecords());
    assertEquals(0.9, spec.getDataset().getNearDuplicateThreshold());
    assertEquals("label", spec.getDataset().getStratifyBy());
    assertEquals("chatml", spec.getDataset().getChatTemplate());
    assertEquals("acme", request.getRequestedBy());
    assertEquals(1, kafka.await(Topics.TRAINING_REQUESTS, 1, r -> id.equals(r.key())).size());
  }

  /** AdaLoRA is accepted for SFT with PEFT's AdaLoraConfig names and PEFT's defaults. */
  @Test
  void adaLoraJobsArePublishedWithTheirSettings() {
    JobSpec spec =
        published(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + file
                + "\", \"adapter\": {\"type\": \"adalora\", \"init_r\": 10,"
                + " \"target_r\": 4, \"tinit\": 20, \"tfinal\": 40, \"deltaT\": 5,"
                + " \"lora_alpha\": 16, \"target_modules\": [\"q_proj\", \"k_proj\"]}}");
    assertEquals(JobSpec.Method.ADALORA, spec.getMethod());
    var ada = spec.getAdapter().getAdalora();
    assertEquals(10, ada.getInitR());
    assertEquals(4, ada.getTargetR());
    assertEquals(5, ada.getDeltaT());
    assertEquals(16, spec.getAdapter().getLora().getLoraAlpha());
    assertEquals(
        java.util.List.of("q_proj", "k_proj"), spec.getAdapter().getLora().getTargetModulesList());
  }

  /** Prefix tuning is accepted with PEFT's PrefixTuningConfig names. */
  @Test
  void prefixTuningJobsArePublishedWithTheirSettings() {
    JobSpec spec =
        published(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + file
                + "\", \"adapter\": {\"type\": \"prefix\", \"num_virtual_tokens\": 10,"
                + " \"prefix_projection\": true, \"encoder_hidden_size\": 256}}");
    assertEquals(JobSpec.Method.PREFIX, spec.getMethod());
    var prefix = spec.getAdapter().getPromptLearning();
    assertEquals(10, prefix.getNumVirtualTokens());
    assertTrue(prefix.getPrefixProjection());
    assertEquals(256, prefix.getEncoderHiddenSize());
  }

  /** Prompt tuning is accepted for SFT and DPO, with PEFT's PromptTuningConfig names. */
  @Test
  void promptTuningJobsArePublishedWithTheirSettings() {
    for (String type : new String[] {"supervised", "dpo"}) {
      JobSpec spec =
          published(
              "{\"model\": \"tiny-llama\", \"training_file\": \""
                  + file
                  + "\", \"method\": {\"type\": \""
                  + type
                  + "\"}, \"adapter\": {\"type\": \"prompt\", \"num_virtual_tokens\": 8,"
                  + " \"prompt_tuning_init\": \"TEXT\", \"prompt_tuning_init_text\":"
                  + " \"Answer briefly\"}}");
      assertEquals(
          type.equals("dpo") ? JobSpec.Method.DPO : JobSpec.Method.PROMPT, spec.getMethod());
      assertEquals(
          dev.tuneforge.proto.v1.AdapterConfig.PeftType.PROMPT_TUNING,
          spec.getAdapter().getPeftType());
      var prompt = spec.getAdapter().getPromptLearning();
      assertEquals(8, prompt.getNumVirtualTokens());
      assertEquals("TEXT", prompt.getPromptTuningInit());
      assertEquals("Answer briefly", prompt.getPromptTuningInitText());
    }
  }

  /**
   * Every method runs with every adapter (the trainer's RunsTest trains each pair), so the gateway
   * accepts each pair and publishes the adapter the caller named.
   */
  @Test
  void everyMethodIsAcceptedWithEveryAdapter() {
    Map<String, String> methods =
        Map.of(
            "supervised", "{\"type\": \"supervised\"}",
            "dpo", "{\"type\": \"dpo\"}",
            "reward_model", "{\"type\": \"reward_model\"}",
            "ppo",
                "{\"type\": \"ppo\", \"ppo\": {\"hyperparameters\": {\"reward_model\": \"rm\"}}}",
            "online_dpo",
                "{\"type\": \"online_dpo\", \"online_dpo\": {\"hyperparameters\":"
                    + " {\"reward_model\": \"rm\"}}}",
            "best_of_n",
                "{\"type\": \"best_of_n\", \"best_of_n\": {\"hyperparameters\":"
                    + " {\"reward_model\": \"rm\"}}}");
    Map<String, AdapterConfig.PeftType> adapters =
        Map.of(
            "lora", AdapterConfig.PeftType.LORA,
            "qlora", AdapterConfig.PeftType.LORA,
            "ia3", AdapterConfig.PeftType.IA3,
            "prompt", AdapterConfig.PeftType.PROMPT_TUNING,
            "prefix", AdapterConfig.PeftType.PREFIX_TUNING,
            "adalora", AdapterConfig.PeftType.ADALORA);
    for (var method : methods.entrySet()) {
      for (var adapter : adapters.entrySet()) {
        JobSpec spec =
            published(
                "{\"model\": \"tiny-llama\", \"training_file\": \""
                    + file
                    + "\", \"method\": "
                    + method.getValue()
                    + ", \"adapter\": {\"type\": \""
                    + adapter.getKey()
                    + "\"}}");
        assertEquals(
            adapter.getValue(),
            spec.getAdapter().getPeftType(),
            method.getKey() + " x " + adapter.getKey());
      }
    }
    // online DPO judged by a registered model (an LLM as the judge) instead of a reward model
    JobSpec judged =
        published(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + file
                + "\", \"method\": {\"type\": \"online_dpo\", \"online_dpo\":"
                + " {\"hyperparameters\": {\"judge_model\": \"tiny-llama\", \"judge_template\":"
                + " \"0 or 1? {prompt} 0: {first} 1: {second}\"}}}}");
    assertEquals("tiny-llama", judged.getOnlineDpo().getJudgeModel());
    assertEquals(
        "0 or 1? {prompt} 0: {first} 1: {second}", judged.getOnlineDpo().getJudgeTemplate());
    assertEquals("", judged.getOnlineDpo().getRewardModel());
  }

  /**
   * Data-generation jobs take their own settings and the batch size, use every record (no held-out
   * splits), and refuse an adapter or a training setting by name: they train nothing.
   */
  @Test
  void generationJobsAreAcceptedAndRefuseWhatTheyDoNotUse() {
    JobSpec cai =
        published(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + file
                + "\", \"method\": {\"type\": \"constitutional_ai\", \"constitutional_ai\":"
                + " {\"hyperparameters\": {\"batch_size\": 4, \"max_new_tokens\": 8}}}}");
    assertEquals(JobSpec.Method.CONSTITUTIONAL_AI, cai.getMethod());
    assertEquals(4, cai.getHyperparameters().getPerDeviceTrainBatchSize());
    assertEquals(8, cai.getConstitutionalAi().getMaxNewTokens());
    assertEquals(DatasetRef.Format.PROMPT_ONLY, cai.getDataset().getFormat());
    assertEquals(0.0, cai.getDataset().getValidationSplit());
    JobSpec selfInstruct =
        published(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + file
                + "\", \"method\": {\"type\": \"self_instruct\", \"self_instruct\":"
                + " {\"hyperparameters\": {\"target_count\": 20, \"rouge_threshold\": 0.6}}}}");
    assertEquals(DatasetRef.Format.ALPACA, selfInstruct.getDataset().getFormat());
    assertEquals(0.6, selfInstruct.getSelfInstruct().getRougeThreshold());
    Map<String, String[]> refused =
        Map.of(
            "{\"type\": \"self_instruct\", \"self_instruct\": {\"hyperparameters\":"
                + " {\"learning_rate\": 0.001}}}",
            new String[] {
              "method.self_instruct.hyperparameters.learning_rate", "is not used by self_instruct"
            },
            "{\"type\": \"self_instruct\", \"self_instruct\": {\"hyperparameters\":"
                + " {\"machine_examples\": 9}}}",
            new String[] {
              "method.self_instruct.hyperparameters.machine_examples", "at most examples_per_prompt"
            },
            "{\"type\": \"self_instruct\", \"self_instruct\": {\"hyperparameters\":"
                + " {\"rouge_threshold\": 1.5}}}",
            new String[] {"method.self_instruct.hyperparameters.rouge_threshold", "<= 1"});
    refused.forEach(
        (method, expected) ->
            acme()
                .contentType(ContentType.JSON)
                .body(
                    "{\"model\": \"tiny-llama\", \"training_file\": \""
                        + file
                        + "\", \"method\": "
                        + method
                        + "}")
                .post("/v1/fine_tuning/jobs")
                .then()
                .statusCode(400)
                .body("error.param", equalTo(expected[0]))
                .body("error.message", containsString(expected[1])));
    acme()
        .contentType(ContentType.JSON)
        .body(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + file
                + "\", \"adapter\": {\"type\": \"lora\"}, \"method\": {\"type\":"
                + " \"constitutional_ai\"}}")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("adapter"))
        .body("error.message", containsString("training nothing"));
    acme()
        .contentType(ContentType.JSON)
        .body(
            "{\"model\": \"tiny-llama\", \"training_file\": \""
                + file
                + "\", \"eval\": {\"metrics\": [\"rouge\"]}, \"method\": {\"type\":"
                + " \"self_instruct\"}}")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("eval"))
        .body("error.message", containsString("no model to evaluate"));
  }

  /** IA3 is accepted for SFT and DPO, with PEFT's IA3Config names. */
  @Test
  void ia3JobsArePublishedWithTheirModules() {
    for (String type : new String[] {"supervised", "dpo"}) {
      JobSpec spec =
          published(
              "{\"model\": \"tiny-llama\", \"training_file\": \""
                  + file
                  + "\", \"method\": {\"type\": \""
                  + type
                  + "\"}, \"adapter\": {\"type\": \"ia3\", \"target_modules\":"
                  + " [\"k_proj\", \"v_proj\", \"down_proj\"], \"feedforward_modules\":"
                  + " [\"down_proj\"]}}");
      assertEquals(type.equals("dpo") ? JobSpec.Method.DPO : JobSpec.Method.IA3, spec.getMethod());
      assertEquals(
          dev.tuneforge.proto.v1.AdapterConfig.PeftType.IA3, spec.getAdapter().getPeftType());
      assertEquals(
          java.util.List.of("k_proj", "v_proj", "down_proj"),
          spec.getAdapter().getIa3().getTargetModulesList());
      assertEquals(
          java.util.List.of("down_proj"), spec.getAdapter().getIa3().getFeedforwardModulesList());
    }
  }

  @Test
  void dpoJobsTakeTheirOwnSettingsAndPreferenceData() {
    String body =
        """
        {"model": "tiny-llama", "training_file": "%s",
         "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "loss_type": "ipo",
             "learning_rate": 5e-6}}},
         "adapter": {"type": "full"},
         "eval": {"reward_model": "helpful-rm", "evaluate_checkpoints": true}}
        """
            .formatted(file);
    JobSpec spec = published(body);
    assertEquals(JobSpec.Method.DPO, spec.getMethod());
    assertEquals(0.2, spec.getDpo().getBeta());
    assertEquals("ipo", spec.getDpo().getLossType());
    assertEquals("helpful-rm", spec.getEval().getRewardModel());
    assertTrue(spec.getEval().getEvaluateCheckpoints());
    assertEquals(5e-6, spec.getHyperparameters().getLearningRate());
    assertEquals(DatasetRef.Format.PREFERENCE, spec.getDataset().getFormat());
    assertTrue(!spec.hasAdapter(), "full fine-tuning has no adapter");
  }

  /** Jobs are listed with their metadata and can be filtered by it, as OpenAI's list does. */
  @Test
  void jobsAreFilteredByMetadata() {
    String team = "team-" + UUID.randomUUID().toString().substring(0, 8);
    String tagged =
        acme()
            .contentType(ContentType.JSON)
            .body(
                "{\"model\": \"tiny-llama\", \"training_file\": \""
                    + file
                    + "\", \"metadata\": {\"team\": \""
                    + team
                    + "\"}}")
            .post("/v1/fine_tuning/jobs")
            .then()
            .statusCode(200)
            .body("metadata.team", equalTo(team))
            .extract()
            .path("id");
    acme()
        .contentType(ContentType.JSON)
        .body("{\"model\": \"tiny-llama\", \"training_file\": \"" + file + "\"}")
        .post("/v1/fine_tuning/jobs")
        .then()
        .statusCode(200);
    acme()
        .queryParam("metadata[team]", team)
        .get("/v1/fine_tuning/jobs")
        .then()
        .body("data.id", equalTo(java.util.List.of(tagged)));
  }

  static io.restassured.response.Response keyed(
      io.restassured.specification.RequestSpecification as, String key, String body) {
    return as.header("Idempotency-Key", key)
        .contentType(ContentType.JSON)
        .body(body)
        .post("/v1/fine_tuning/jobs");
  }

  /**
   * An SDK retry with the same Idempotency-Key gets the same job and publishes nothing twice; the
   * key reused for a different request is refused.
   */
  @Test
  void anIdempotencyKeyMakesARetryReturnTheSameJob() {
    String key = "retry-" + UUID.randomUUID();
    String body = "{\"model\": \"tiny-llama\", \"training_file\": \"" + file + "\", \"seed\": 7}";
    String first = keyed(acme(), key, body).then().statusCode(200).extract().path("id");
    keyed(acme(), key, body).then().statusCode(200).body("id", equalTo(first));
    keyed(acme(), key, body.replace("7", "8"))
        .then()
        .statusCode(409)
        .body("error.code", equalTo("idempotency_key_reused"));
    // another tenant's same key is its own
    String theirs = FilesAndTenantsTest.upload(globex(), "g.jsonl", FilesAndTenantsTest.CHAT);
    keyed(globex(), key, "{\"model\": \"tiny-llama\", \"training_file\": \"" + theirs + "\"}")
        .then()
        .statusCode(200)
        .body("id", org.hamcrest.Matchers.not(equalTo(first)));
    assertEquals(
        1,
        kafka
            .awaitEvents(
                dev.tuneforge.proto.v1.TrainingRequested.class,
                1,
                r -> first.equals(r.getSpec().getJobId()))
            .size());
  }

  /**
   * A create while the broker is down answers 503 within a bounded time and creates nothing, not
   * even once the broker is back (the producer gave the record up).
   */
  @Test
  void aCreateDuringABrokerOutageAnswers503AndIsNeverAppliedLater() throws Exception {
    String tag = "outage-" + UUID.randomUUID().toString().substring(0, 8);
    dev.tuneforge.servers.KafkaServer broker = dev.tuneforge.testing.RealStackResource.kafka();
    broker.stop();
    long start = System.nanoTime();
    try {
      acme()
          .contentType(ContentType.JSON)
          .body(
              "{\"model\": \"tiny-llama\", \"training_file\": \""
                  + file
                  + "\", \"metadata\": {\"tag\": \""
                  + tag
                  + "\"}}")
          .post("/v1/fine_tuning/jobs")
          .then()
          .statusCode(503)
          .body("error.code", equalTo("service_unavailable"));
    } finally {
      broker.start();
    }
    long seconds = java.time.Duration.ofNanos(System.nanoTime() - start).toSeconds();
    assertTrue(seconds < 30, "answered within a bounded time: " + seconds + " s");
    String after = "after-" + UUID.randomUUID();
    kafka.publish(dev.tuneforge.proto.SampleEvents.trainingRequested(after));
    kafka.awaitEvents(
        dev.tuneforge.proto.v1.TrainingRequested.class,
        1,
        r -> after.equals(r.getSpec().getJobId()));
    assertTrue(
        kafka
            .readAll(dev.tuneforge.proto.Topics.TRAINING_REQUESTS, r -> r.value().contains(tag))
            .isEmpty(),
        "the refused create was never published");
    acme()
        .queryParam("metadata[tag]", tag)
        .get("/v1/fine_tuning/jobs")
        .then()
        .body("data", org.hamcrest.Matchers.hasSize(0));
  }

  /** Posts a job as acme, expects 200 and returns the spec published on the requests topic. */
  private JobSpec published(String body) {
    String id =
        acme()
            .contentType(ContentType.JSON)
            .body(body)
            .post("/v1/fine_tuning/jobs")
            .then()
            .statusCode(200)
            .extract()
            .path("id");
    return kafka
        .awaitEvents(TrainingRequested.class, 1, r -> id.equals(r.getSpec().getJobId()))
        .get(0)
        .getSpec();
  }
}
