package dev.tuneforge.llm.data.jinja;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Python's {@code json.dumps(value, ensure_ascii=False, indent=..., separators=...,
 * sort_keys=...)}, which transformers installs as the templates' {@code tojson} filter.
 */
final class Json {
  private Json() {}

  static String dumps(
      Object value, String indent, String itemSep, String keySep, boolean sortKeys, int line) {
    StringBuilder out = new StringBuilder();
    write(out, value, indent, itemSep, keySep, sortKeys, 0, line);
    return out.toString();
  }

  private static void write(
      StringBuilder out,
      Object v,
      String indent,
      String itemSep,
      String keySep,
      boolean sort,
      int depth,
      int line) {
    if (v == null) {
      out.append("null");
    } else if (v instanceof Boolean b) {
      out.append(b ? "true" : "false");
    } else if (v instanceof Long l) {
      out.append(l);
    } else if (v instanceof Double d) {
      out.append(
          d.isNaN()
              ? "NaN"
              : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d));
    } else if (v instanceof String s) {
      string(out, s);
    } else if (v instanceof List<?> list) {
      if (list.isEmpty()) {
        out.append("[]");
        return;
      }
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        out.append(i > 0 ? itemSep : "");
        newline(out, indent, depth + 1);
        write(out, list.get(i), indent, itemSep, keySep, sort, depth + 1, line);
      }
      newline(out, indent, depth);
      out.append(']');
    } else if (v instanceof Map<?, ?> map) {
      if (map.isEmpty()) {
        out.append("{}");
        return;
      }
      Map<?, ?> entries = map;
      if (sort) {
        TreeMap<String, Object> sorted = new TreeMap<>(Py::compareCodePoints);
        map.forEach((k, x) -> sorted.put(key(k, line), x));
        entries = sorted;
      }
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : entries.entrySet()) {
        out.append(first ? "" : itemSep);
        first = false;
        newline(out, indent, depth + 1);
        string(out, key(e.getKey(), line));
        out.append(keySep);
        write(out, e.getValue(), indent, itemSep, keySep, sort, depth + 1, line);
      }
      newline(out, indent, depth);
      out.append('}');
    } else {
      throw new TemplateException(
          line, "Object of type " + Py.typeName(v).replace("'", "") + " is not JSON serializable");
    }
  }

  private static String key(Object k, int line) {
    if (k instanceof String s) {
      return s;
    }
    if (k == null) {
      return "null";
    }
    if (k instanceof Boolean b) {
      return b ? "true" : "false";
    }
    if (k instanceof Long || k instanceof Double) {
      return Py.repr(k);
    }
    throw new TemplateException(
        line, "keys must be str, int, float, bool or None, not " + Py.typeName(k).replace("'", ""));
  }

  private static void newline(StringBuilder out, String indent, int depth) {
    if (indent != null) {
      out.append('\n').append(indent.repeat(depth));
    }
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** The indent string of json.dumps' {@code indent} (an int of spaces, or a string). */
  static String indent(Object indent) {
    if (indent == null) {
      return null;
    }
    if (indent instanceof String s) {
      return s;
    }
    return " ".repeat((int) Math.max(0, Py.toLong(indent)));
  }

  static List<String> separators(Object separators, String indent) {
    if (separators instanceof List<?> l && l.size() == 2) {
      return List.of(Py.str(l.get(0)), Py.str(l.get(1)));
    }
    return List.of(indent == null ? ", " : ",", ": ");
  }
}
