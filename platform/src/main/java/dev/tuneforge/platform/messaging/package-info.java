/**
 * Kafka plumbing shared by the services: strict inbound handling with dedup and dead letters, and
 * the event publisher.
 */
package dev.tuneforge.platform.messaging;
