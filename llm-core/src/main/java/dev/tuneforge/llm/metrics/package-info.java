/**
 * Metrics over model outputs: token log-probabilities and perplexity, later ROUGE, BLEU, accuracy.
 */
package dev.tuneforge.llm.metrics;
