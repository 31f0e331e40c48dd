/**
 * OpenAI-compatible completions of a base model or a fine-tuned one, and A/B tests between them.
 */
package dev.tuneforge.eval.serve;
