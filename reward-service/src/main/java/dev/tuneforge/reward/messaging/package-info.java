/** Kafka request/reply of reward-service. */
package dev.tuneforge.reward.messaging;
