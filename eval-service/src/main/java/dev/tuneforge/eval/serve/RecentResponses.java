package dev.tuneforge.eval.serve;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this replica remembers of the responses it served, by response id: the newest {@code
 * capacity}, the oldest forgotten first, so memory stays bounded however long it serves.
 */
final class RecentResponses<T> extends LinkedHashMap<String, T> {
  static final int CAPACITY = 100_000;

  RecentResponses() {
    super(1024, 0.75f, false);
  }

  @Override
  protected boolean removeEldestEntry(Map.Entry<String, T> eldest) {
    return size() > CAPACITY;
  }
}
