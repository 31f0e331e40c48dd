/** Hugging Face tokenizers, offline: tokenizer.json through DJL plus tokenizer_config.json. */
package dev.tuneforge.llm.tokenizer;
