/** The jobs this trainer replica holds and their state machine. */
package dev.tuneforge.trainer.job;
