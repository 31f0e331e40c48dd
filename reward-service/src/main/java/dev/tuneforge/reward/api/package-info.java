/** HTTP scoring: {@code POST /v1/rewards} and OpenRLHF's {@code POST /get_reward}. */
package dev.tuneforge.reward.api;
