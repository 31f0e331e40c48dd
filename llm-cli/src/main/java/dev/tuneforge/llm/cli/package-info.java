/** {@code ./tuneforge model ...}: create, inspect, score and run models from the command line. */
package dev.tuneforge.llm.cli;
