/** Kafka consumers and producers of trainer-service. */
package dev.tuneforge.trainer.messaging;
