/** gateway settings. */
package dev.tuneforge.gateway.config;
