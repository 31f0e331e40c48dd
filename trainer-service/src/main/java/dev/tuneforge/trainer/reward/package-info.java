/**
 * Rewards for PPO and Best-of-N jobs: reward-service over Kafka request/reply, or a local reward
 * model.
 */
package dev.tuneforge.trainer.reward;
