/** Text generation: batched, left-padded, KV-cached, greedy or sampled. */
package dev.tuneforge.llm.generate;
