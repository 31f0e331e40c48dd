/** Reward-service as the judge of evaluations. */
package dev.tuneforge.eval.reward;
