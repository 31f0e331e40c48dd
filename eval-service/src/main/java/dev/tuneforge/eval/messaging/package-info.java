/** Kafka consumers and producers of eval-service. */
package dev.tuneforge.eval.messaging;
