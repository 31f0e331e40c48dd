package dev.tuneforge.platform.messaging;

import com.google.protobuf.Message;

/**
 * An event that parsed and validated, with its CloudEvents id and source and the record's key.
 *
 * @param id the {@code ce_id}, or {@code topic/partition/offset} for a record published without one
 * @param source the {@code ce_source}, or empty
 * @param key the record key (the job id or correlation id)
 * @param event the parsed event
 */
public record Received<T extends Message>(String id, String source, String key, T event) {}
