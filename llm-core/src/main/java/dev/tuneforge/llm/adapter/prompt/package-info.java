/** Prompt tuning: learned virtual token embeddings before every sequence, as PEFT stores them. */
package dev.tuneforge.llm.adapter.prompt;
