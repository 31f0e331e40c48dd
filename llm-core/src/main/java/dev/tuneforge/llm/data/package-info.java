/** Training data: examples, chat templates and collators. */
package dev.tuneforge.llm.data;
