/** IA3: learned scaling vectors on projections, as PEFT defines and stores them. */
package dev.tuneforge.llm.adapter.ia3;
