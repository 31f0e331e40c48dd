/**
 * The TuneForge ML engine on DJL's PyTorch engine: usable on its own, without Kafka, S3 or Quarkus.
 */
package dev.tuneforge.llm;
