/** Checkpoint formats: safetensors files and Hugging Face model directories, in and out. */
package dev.tuneforge.llm.checkpoint;
