/**
 * Evaluating a trained checkpoint (perplexity, generation metrics, reward) against held-out data,
 * and a reward model on preference pairs: what eval-service and the command line both run.
 */
package dev.tuneforge.llm.eval;
