/** Prefix tuning: learned keys and values before every layer's, as PEFT stores them. */
package dev.tuneforge.llm.adapter.prefix;
