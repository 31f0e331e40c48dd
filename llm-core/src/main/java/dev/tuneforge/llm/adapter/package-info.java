/** Parameter-efficient adapters that wrap a model's projections: LoRA over a dense or NF4 base. */
package dev.tuneforge.llm.adapter;
