/** Real Kafka and S3 servers run as child processes, for tests and the one-machine stack. */
package dev.tuneforge.servers;
