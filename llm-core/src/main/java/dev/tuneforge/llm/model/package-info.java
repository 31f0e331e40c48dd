/** The decoder-only Llama family: config, blocks, weight names, the model and its KV cache. */
package dev.tuneforge.llm.model;
