/** Losses and the log-probability helpers every recipe shares. */
package dev.tuneforge.llm.loss;
