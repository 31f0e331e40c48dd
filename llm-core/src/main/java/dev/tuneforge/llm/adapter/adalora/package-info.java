/**
 * AdaLoRA: SVD-form low-rank updates whose ranks are allocated by importance, as PEFT stores them.
 */
package dev.tuneforge.llm.adapter.adalora;
