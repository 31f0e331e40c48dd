package dev.tuneforge.llm.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * adapter_config.json options peft can write: what changes the adapter's arithmetic and is not
 * implemented is refused by name, never ignored; PEFT's own rules on combining options hold.
 */
class PeftConfigTest {
  static final Path FILE = Path.of("adapter_config.json");

  private static JsonObject config(String extra) {
    return JsonParser.parseString(
            "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"]"
                + extra
                + "}")
        .getAsJsonObject();
  }

  private static String refusal(String extra) {
    return assertThrows(
            IllegalArgumentException.class, () -> PeftLora.settings(config(extra), FILE))
        .getMessage();
  }

  @Test
  void optionsThatChangeTheArithmeticAreRefusedByName() {
    assertTrue(
        refusal(", \"lora_bias\": true, \"use_dora\": true")
            .contains("lora_bias=true is not supported with DoRA"));
    assertTrue(refusal(", \"use_qalora\": true").contains("use_qalora = true is not supported"));
    assertTrue(
        refusal(", \"trainable_token_indices\": [5, 7]")
            .contains("trainable_token_indices = [5,7] is not supported"));
    assertTrue(
        refusal(", \"layer_replication\": [[0, 2]]").contains("layer_replication"), "replication");
    assertTrue(
        refusal(", \"init_lora_weights\": \"pissa_niter_4\"")
            .contains("init_lora_weights \"pissa_niter_4\" changes the base weights"));
    assertTrue(
        refusal(", \"target_modules\": \".*q_proj\", \"layers_to_transform\": [0]")
            .contains(
                "layers_to_transform and layers_pattern cannot be used when target_modules is a string"));
    assertTrue(refusal(", \"rank_pattern\": {\"(\": 2}").contains("rank_pattern key \"(\""));
  }

  @Test
  void optionsAtTheirDefaultsAndInitMethodsThatOnlySeedTheAdapterLoad() {
    LoraSettings settings =
        PeftLora.settings(
            config(
                ", \"lora_bias\": false, \"megatron_config\": null, \"init_lora_weights\": \"gaussian\","
                    + " \"runtime_config\": {\"ephemeral_gpu_offload\": false}, \"layers_to_transform\": 1,"
                    + " \"rank_pattern\": {\"q_proj\": 8}, \"alpha_pattern\": {\"q_proj\": 4}"),
            FILE);
    assertTrue(settings.targets(1, "self_attn.q_proj"));
    assertEquals(false, settings.targets(0, "self_attn.q_proj"));
    assertEquals(8, settings.rank(1, "self_attn.q_proj"));
    assertEquals(0.5, settings.scale(1, "self_attn.q_proj"), 1e-12);
  }

  /** The finer rules survive a save: the written adapter_config.json reads back the same. */
  @Test
  void selectionRulesRoundTripThroughTheConfigPeftReads() {
    LoraSettings settings =
        PeftLora.settings(
            config(
                ", \"target_modules\": \".*(q|v)_proj\", \"exclude_modules\": [\"model.layers.0.self_attn.v_proj\"],"
                    + " \"rank_pattern\": {\"v_proj\": 2}, \"alpha_pattern\": {\"q_proj\": 3}"),
            FILE);
    JsonObject written = LoraAdapter.create(settings, 1).peftConfig("base");
    assertEquals(".*(q|v)_proj", written.get("target_modules").getAsString());
    LoraSettings read = PeftLora.settings(written, FILE);
    assertEquals(settings.rules(), read.rules());
    assertEquals(false, read.targets(0, "self_attn.v_proj"));
    assertEquals(2, read.rank(1, "self_attn.v_proj"));
  }
}
