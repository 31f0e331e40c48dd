/** Kafka consumers and producers of data-service. */
package dev.tuneforge.data.messaging;
