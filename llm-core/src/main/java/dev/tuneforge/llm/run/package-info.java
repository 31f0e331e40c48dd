/**
 * The typed run layer: a {@link dev.tuneforge.llm.run.TrainingJob} says everything a run needs
 * (model, data, compute, how the model is parameterised, trainer, optimizer, data and method
 * settings), and {@link dev.tuneforge.llm.run.Runs#run} runs it with one set of hooks. The command
 * line's JSON spec and trainer-service's job spec are two readers of the same record.
 */
package dev.tuneforge.llm.run;
