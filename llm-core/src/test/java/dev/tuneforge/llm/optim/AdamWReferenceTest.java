package dev.tuneforge.llm.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Clipping, AdamW and the cosine schedule reproduce torch.optim.AdamW + clip_grad_norm_ + LambdaLR
 * (tools/reference/optim_reference.py) step by step, to 1e-6.
 */
class AdamWReferenceTest {

  @Test
  void trajectoryMatchesPyTorch() throws Exception {
    JsonObject reference =
        JsonParser.parseString(Files.readString(Path.of("src/test/resources/reference/adamw.json")))
            .getAsJsonObject();
    int steps = reference.get("steps").getAsInt();
    double lr = reference.get("lr").getAsDouble();
    double maxNorm = reference.get("max_norm").getAsDouble();
    LrSchedule schedule = new LrSchedule("cosine", reference.get("warmup").getAsLong(), steps);
    try (NDManager manager = Torch.engine().newBaseManager();
        AdamW optimizer =
            new AdamW(
                new AdamW.Settings(0.9, 0.999, 1e-8, reference.get("weight_decay").getAsDouble()),
                manager)) {
      NDArray p = manager.create(floats(reference.getAsJsonArray("start")), new Shape(4, 3));
      p.setRequiresGradient(true);
      Map<String, NDArray> parameters = Map.of("p", p);
      for (int t = 0; t < steps; t++) {
        try (NDManager scope = manager.newSubManager()) {
          NDArray g =
              scope.create(
                  floats(reference.getAsJsonArray("gradients").get(t).getAsJsonArray()),
                  new Shape(4, 3));
          Autograd.withGrad(
              true,
              () -> {
                Autograd.backward(p.mul(g).sum()); // d/dp sum(p * G) = G
                return null;
              });
          double norm = GradientClipping.clip(parameters, maxNorm, scope);
          assertEquals(
              reference.getAsJsonArray("grad_norms").get(t).getAsDouble(),
              norm,
              1e-4 * norm,
              "norm at step " + t);
        }
        double rate = lr * schedule.multiplier(t);
        assertEquals(
            reference.getAsJsonArray("learning_rates").get(t).getAsDouble(),
            rate,
            1e-12,
            "lr at step " + t);
        optimizer.update(parameters, rate);
        float[] expected = floats(reference.getAsJsonArray("trajectory").get(t).getAsJsonArray());
        float[] actual = p.toFloatArray();
        for (int i = 0; i < expected.length; i++) {
          assertEquals(expected[i], actual[i], 1e-6, "step " + t + " element " + i);
        }
      }
    }
  }

  private static float[] floats(JsonArray array) {
    float[] values = new float[array.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = array.get(i).getAsFloat();
    }
    return values;
  }
}
