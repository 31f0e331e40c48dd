/** Training recipes, one class per method, built from the shared pieces in optim, loss and data. */
package dev.tuneforge.llm.recipe;
