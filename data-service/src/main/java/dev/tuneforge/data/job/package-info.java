/** A job's dataset: where its files are, the base model's tokenizer, and the prepared splits. */
package dev.tuneforge.data.job;
