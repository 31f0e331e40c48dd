package dev.tuneforge.llm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU kit's checks run here on the CPU (without bfloat16: DJL's own JNI aborts the JVM on it;
 * tools/gpu/rehearse-cpu.sh runs that part with the kit's patched JNI): every reference model's
 * log-probs match the PyTorch reference to 1e-4, generation is the CPU's, and the report is written
 * section by section.
 */
class GpuCheckCommandTest {
  @TempDir Path out;

  @Test
  void theChecksPassOnTheCpuAndReportEachSection() throws Exception {
    ModelCommandTest.Result result =
        ModelCommandTest.run(
            "gpu-check",
            "--out",
            out.toString(),
            "--device",
            "cpu",
            "--references",
            "../llm-core/src/test/resources/reference");
    assertEquals(0, result.exitCode(), result.err());
    JsonObject report =
        JsonParser.parseString(Files.readString(out.resolve("gpu-check.json"))).getAsJsonObject();
    assertTrue(report.get("passed").getAsBoolean());
    JsonObject parity = report.getAsJsonObject("parity_float32");
    assertTrue(parity.get("max_abs_error").getAsDouble() <= 1e-4, parity.toString());
    assertEquals(
        GpuCheckCommand.REFERENCES.size(), parity.getAsJsonObject("by_model").size(), "each model");
    assertTrue(report.getAsJsonObject("generation").get("passed").getAsBoolean());
    assertFalse(report.has("bfloat16_ops"), "asked for with --bf16 only");
    assertEquals("cpu", report.getAsJsonObject("environment").get("device").getAsString());
  }

  @Test
  void aMissingReferenceFailsItsSectionAndTheRunGoesOn() throws Exception {
    ModelCommandTest.Result result =
        ModelCommandTest.run(
            "gpu-check",
            "--out",
            out.toString(),
            "--device",
            "cpu",
            "--references",
            out.resolve("none").toString());
    assertEquals(1, result.exitCode());
    JsonObject report =
        JsonParser.parseString(Files.readString(out.resolve("gpu-check.json"))).getAsJsonObject();
    assertFalse(report.getAsJsonObject("parity_float32").get("passed").getAsBoolean());
    assertTrue(
        report
            .getAsJsonObject("parity_float32")
            .get("error")
            .getAsString()
            .contains("expected.json"));
    assertTrue(report.has("generation"), "the next sections still ran");
  }
}
