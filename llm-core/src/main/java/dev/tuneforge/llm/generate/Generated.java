package dev.tuneforge.llm.generate;

/**
 * One generated continuation.
 *
 * @param tokens the new tokens, up to and including a stop token or the token completing a stop
 *     string
 * @param text the decoded new text, cut before a stop string (empty without a tokenizer)
 * @param finishReason "stop" (stop token or string) or "length" (max_new_tokens reached)
 */
public record Generated(int[] tokens, String text, String finishReason) {}
