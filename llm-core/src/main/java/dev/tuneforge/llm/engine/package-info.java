/** Offline start-up of libtorch through DJL, and the device and dtype a model computes in. */
package dev.tuneforge.llm.engine;
