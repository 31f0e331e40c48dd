/** reward-service settings. */
package dev.tuneforge.reward.config;
