/**
 * Test support: the real Kafka + S3 stack for {@code @QuarkusTest}s and a Kafka client for events.
 */
package dev.tuneforge.testing;
