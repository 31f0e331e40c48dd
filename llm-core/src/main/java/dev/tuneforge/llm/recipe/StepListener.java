package dev.tuneforge.llm.recipe;

/** Receives every logged step of a run, whatever its method. */
@FunctionalInterface
public interface StepListener {
  void onStep(TrainingStep step);

  StepListener NONE = step -> {};
}
