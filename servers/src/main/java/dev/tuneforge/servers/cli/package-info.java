/** The {@code ./tuneforge} command line: the local stack and the services on one machine. */
package dev.tuneforge.servers.cli;
