package dev.tuneforge.llm.preference;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named figures gathered over micro-batches and evaluation batches: each name is a mean, a minimum
 * or a maximum over every value added under it, so batch boundaries do not change the result.
 */
public final class Metrics {
  private enum Kind {
    MEAN,
    MIN,
    MAX
  }

  private record Stat(Kind kind, double value, long count) {}

  private final Map<String, Stat> stats = new LinkedHashMap<>();

  public Metrics mean(String name, float[] values) {
    return add(name, Kind.MEAN, values);
  }

  public Metrics min(String name, float[] values) {
    return add(name, Kind.MIN, values);
  }

  public Metrics max(String name, float[] values) {
    return add(name, Kind.MAX, values);
  }

  private Metrics add(String name, Kind kind, float[] values) {
    for (float v : values) {
      Stat stat = stats.get(name);
      if (stat == null) {
        stats.put(name, new Stat(kind, v, 1));
      } else {
        double merged =
            switch (kind) {
              case MEAN -> stat.value() + v;
              case MIN -> Math.min(stat.value(), v);
              case MAX -> Math.max(stat.value(), v);
            };
        stats.put(name, new Stat(kind, merged, stat.count() + 1));
      }
    }
    return this;
  }

  /** Adds everything {@code other} gathered. */
  public Metrics addAll(Metrics other) {
    other.stats.forEach(
        (name, stat) -> {
          Stat mine = stats.get(name);
          if (mine == null) {
            stats.put(name, stat);
          } else {
            double merged =
                switch (stat.kind()) {
                  case MEAN -> mine.value() + stat.value();
                  case MIN -> Math.min(mine.value(), stat.value());
                  case MAX -> Math.max(mine.value(), stat.value());
                };
            stats.put(name, new Stat(stat.kind(), merged, mine.count() + stat.count()));
          }
        });
    return this;
  }

  /** Every figure by name, in the order first added. */
  public Map<String, Double> values() {
    Map<String, Double> values = new LinkedHashMap<>();
    stats.forEach(
        (name, stat) ->
            values.put(
                name, stat.kind() == Kind.MEAN ? stat.value() / stat.count() : stat.value()));
    return Collections.unmodifiableMap(values);
  }
}
