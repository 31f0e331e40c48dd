package dev.tuneforge.platform.messaging;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The ids of the events this service instance handled most recently, for dropping redeliveries. It
 * holds the last {@code tuneforge.messaging.dedup-capacity} ids (default 100 000); Kafka's
 * committed offsets cover what is older, so a duplicate can only come from the uncommitted tail.
 */
@ApplicationScoped
public class ProcessedEvents {
  private final Map<String, Boolean> recent;

  ProcessedEvents(
      @ConfigProperty(name = "tuneforge.messaging.dedup-capacity", defaultValue = "100000")
          int capacity) {
    this.recent =
        new LinkedHashMap<>(1024, 0.75f, false) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > capacity;
          }
        };
  }

  /** Whether the event with this id was already handled. */
  public synchronized boolean contains(String channel, String id) {
    return recent.containsKey(channel + "|" + id);
  }

  /** Records that the event with this id was handled. */
  public synchronized void add(String channel, String id) {
    recent.put(channel + "|" + id, Boolean.TRUE);
  }
}
