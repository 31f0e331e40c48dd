/** Optimisation pieces every recipe shares: AdamW, learning-rate schedules, gradient clipping. */
package dev.tuneforge.llm.optim;
