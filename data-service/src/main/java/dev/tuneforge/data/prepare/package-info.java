/**
 * Dataset preparation without I/O: reading JSONL, JSON arrays and CSV; detecting and normalising
 * the record kinds; validation with line-precise messages; token lengths through the base model's
 * tokenizer and chat template; deduplication; seeded splits; statistics.
 */
package dev.tuneforge.data.prepare;
