/** REST resources of the gateway (OpenAI fine-tuning API shapes). */
package dev.tuneforge.gateway.api;
