/** API keys: each maps to a tenant, and every request acts for the tenant of its key. */
package dev.tuneforge.gateway.auth;
