/** trainer-service settings. */
package dev.tuneforge.trainer.config;
