/** data-service settings. */
package dev.tuneforge.data.config;
