/** eval-service settings. */
package dev.tuneforge.eval.config;
