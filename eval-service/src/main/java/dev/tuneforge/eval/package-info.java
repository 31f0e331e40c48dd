/** eval-service: scores checkpoints against their base model and publishes the results. */
package dev.tuneforge.eval;
