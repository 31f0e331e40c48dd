/** Readiness checks shared by the services; Kafka's come from the Kafka extension. */
package dev.tuneforge.platform.health;
