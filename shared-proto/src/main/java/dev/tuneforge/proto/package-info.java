/**
 * Event contracts on the wire: topic names, CloudEvents headers and the strict proto3 JSON serde.
 */
package dev.tuneforge.proto;
