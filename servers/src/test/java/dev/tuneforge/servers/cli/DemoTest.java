package dev.tuneforge.servers.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

class DemoTest {
  @Test
  void theProgressBarShowsStepLossAndEta() {
    assertEquals(
        "  [##########....................]  33% step 120/360  loss 4.4525  ETA 3s",
        Demo.progressBar(
            JsonParser.parseString(
                    "{\"step\":120,\"total_steps\":360,\"train_loss\":4.45251,\"eta_seconds\":3}")
                .getAsJsonObject()));
    assertEquals(
        "  [##############################] 100% step 10/10",
        Demo.progressBar(
            JsonParser.parseString("{\"step\":10,\"total_steps\":10}").getAsJsonObject()));
  }
}
