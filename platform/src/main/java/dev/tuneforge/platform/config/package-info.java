/** Settings shared by services: per-tenant limits. */
package dev.tuneforge.platform.config;
