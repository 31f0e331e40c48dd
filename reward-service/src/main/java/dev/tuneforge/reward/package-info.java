/** reward-service: hosts reward models and scores (prompt, response) batches. */
package dev.tuneforge.reward;
