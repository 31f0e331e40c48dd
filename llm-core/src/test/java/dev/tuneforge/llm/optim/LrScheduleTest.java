package dev.tuneforge.llm.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Multipliers worked out by hand from transformers' schedule formulas (10 steps, 2 warm-up). */
class LrScheduleTest {

  @Test
  void linearWarmsUpThenDecaysToZero() {
    LrSchedule linear = new LrSchedule("linear", 2, 10);
    assertEquals(0.0, linear.multiplier(0));
    assertEquals(0.5, linear.multiplier(1));
    assertEquals(1.0, linear.multiplier(2));
    assertEquals(0.5, linear.multiplier(6)); // 1 - 4/8
    assertEquals(0.0, linear.multiplier(10));
  }

  @Test
  void cosineIsHalfWayAtTheMiddleOfDecay() {
    LrSchedule cosine = new LrSchedule("cosine", 2, 10);
    assertEquals(1.0, cosine.multiplier(2), 1e-12);
    assertEquals(0.5, cosine.multiplier(6), 1e-12); // 0.5 * (1 + cos(pi/2))
    assertEquals(0.0, cosine.multiplier(10), 1e-12);
  }

  @Test
  void constantSchedulesAndWarmupDerivation() {
    assertEquals(1.0, new LrSchedule("constant", 2, 10).multiplier(0));
    assertEquals(0.5, new LrSchedule("constant_with_warmup", 2, 10).multiplier(1));
    assertEquals(1.0, new LrSchedule("constant_with_warmup", 2, 10).multiplier(9));
    assertEquals(3, LrSchedule.warmup(0, 0.03, 100)); // ceil(3.0)
    assertEquals(5, LrSchedule.warmup(5, 0.5, 100)); // warmup_steps wins
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule("polynomial", 0, 10));
    assertEquals(
        "lr_scheduler_type \"polynomial\" is not supported; one of constant, constant_with_warmup, linear, cosine",
        e.getMessage());
  }
}
