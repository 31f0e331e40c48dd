/** gateway: the public API, shaped like the OpenAI fine-tuning API, over the event flow. */
package dev.tuneforge.gateway;
