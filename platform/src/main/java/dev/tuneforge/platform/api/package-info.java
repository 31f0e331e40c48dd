/** HTTP plumbing the services share: OpenAI-shaped errors and the service credential. */
package dev.tuneforge.platform.api;
