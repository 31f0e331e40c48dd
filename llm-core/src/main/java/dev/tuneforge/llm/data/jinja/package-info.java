/**
 * A Jinja2 interpreter with the semantics transformers renders chat templates with (Python values,
 * trim_blocks, lstrip_blocks, loop controls, an immutable sandbox): template text is parsed once,
 * and values passed in are data, never template code.
 */
package dev.tuneforge.llm.data.jinja;
