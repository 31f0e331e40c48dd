/** Kafka consumers and producers of the gateway. */
package dev.tuneforge.gateway.messaging;
