package dev.tuneforge.llm.data.jinja;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python value semantics for template values: {@code null} is None, Long is int, Double is float,
 * List is list (or tuple, {@link Tuple}), Map is dict, {@link Undefined} is jinja2's Undefined.
 * Printing, truth, equality, ordering and arithmetic follow CPython.
 */
final class Py {
  private Py() {}

  /** A tuple: printed with parentheses, otherwise a list. */
  static final class Tuple extends ArrayList<Object> {
    Tuple(List<?> items) {
      super(items);
    }
  }

  /** jinja2's Undefined: empty when printed, false, empty when iterated, an error otherwise. */
  record Undefined(String hint) {
    TemplateException error(int line) {
      return new TemplateException(line, hint);
    }
  }

  static Undefined undefinedName(String name) {
    return new Undefined("'" + name + "' is undefined");
  }

  static Undefined undefinedAttr(Object target, Object name) {
    return new Undefined(typeName(target) + " object has no attribute " + repr(name));
  }

  static boolean isWhitespace(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!isSpace(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** Python's str.isspace for one character. */
  static boolean isSpace(char c) {
    return Character.isWhitespace(c)
        || Character.isSpaceChar(c)
        || c == '\u001C'
        || c == '\u001D'
        || c == '\u001E'
        || c == '\u001F'
        || c == '\u0085';
  }

  static String rstrip(String s, String chars) {
    int end = s.length();
    while (end > 0 && stripped(s.charAt(end - 1), chars)) {
      end--;
    }
    return s.substring(0, end);
  }

  static String lstrip(String s, String chars) {
    int start = 0;
    while (start < s.length() && stripped(s.charAt(start), chars)) {
      start++;
    }
    return s.substring(start);
  }

  private static boolean stripped(char c, String chars) {
    return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
  }

  static String typeName(Object v) {
    if (v == null) {
      return "'NoneType'";
    }
    if (v instanceof Undefined) {
      return "'Undefined'";
    }
    if (v instanceof Boolean) {
      return "'bool'";
    }
    if (v instanceof Long) {
      return "'int'";
    }
    if (v instanceof Double) {
      return "'float'";
    }
    if (v instanceof String) {
      return "'str'";
    }
    if (v instanceof Tuple) {
      return "'tuple'";
    }
    if (v instanceof List) {
      return "'list'";
    }
    if (v instanceof Map) {
      return "'dict'";
    }
    return "'" + v.getClass().getSimpleName() + "'";
  }

  static boolean truthy(Object v) {
    if (v == null || v instanceof Undefined) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof Long l) {
      return l != 0;
    }
    if (v instanceof Double d) {
      return d != 0.0;
    }
    if (v instanceof String s) {
      return !s.isEmpty();
    }
    if (v instanceof List<?> l) {
      return !l.isEmpty();
    }
    if (v instanceof Map<?, ?> m) {
      return !m.isEmpty();
    }
    return true;
  }

  /** {@code str(v)}; Undefined prints as nothing. */
  static String str(Object v) {
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Undefined) {
      return "";
    }
    return repr(v);
  }

  static String repr(Object v) {
    if (v == null) {
      return "None";
    }
    if (v instanceof Boolean b) {
      return b ? "True" : "False";
    }
    if (v instanceof Long l) {
      return Long.toString(l);
    }
    if (v instanceof Double d) {
      return floatRepr(d);
    }
    if (v instanceof String s) {
      return stringRepr(s);
    }
    if (v instanceof Undefined) {
      return "Undefined";
    }
    if (v instanceof List<?> list) {
      StringBuilder out = new StringBuilder(v instanceof Tuple ? "(" : "[");
      for (int i = 0; i < list.size(); i++) {
        out.append(i > 0 ? ", " : "").append(repr(list.get(i)));
      }
      if (v instanceof Tuple && list.size() == 1) {
        out.append(',');
      }
      return out.append(v instanceof Tuple ? ")" : "]").toString();
    }
    if (v instanceof Map<?, ?> map) {
      StringBuilder out = new StringBuilder("{");
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        out.append(first ? "" : ", ")
            .append(repr(e.getKey()))
            .append(": ")
            .append(repr(e.getValue()));
        first = false;
      }
      return out.append('}').toString();
    }
    return v.toString();
  }

  /**
   * CPython's float repr: the shortest round-trip digits, exponent form below 1e-4 or from 1e16.
   */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
    String digits = exact.unscaledValue().toString();
    int exponent = digits.length() - 1 - exact.scale(); // decimal exponent of the first digit
    String sign = d < 0 ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
      String mantissa =
          digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      return sign
          + mantissa
          + "e"
          + (exponent < 0 ? "-" : "+")
          + String.format("%02d", Math.abs(exponent));
    }
    String plain = exact.toPlainString();
    return sign + (plain.contains(".") ? plain : plain + ".0");
  }

  static String stringRepr(String s) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    StringBuilder out = new StringBuilder().append(quote);
    s.codePoints()
        .forEach(
            c -> {
              if (c == quote || c == '\\') {
                out.append('\\').appendCodePoint(c);
              } else if (c == '\n') {
                out.append("\\n");
              } else if (c == '\r') {
                out.append("\\r");
              } else if (c == '\t') {
                out.append("\\t");
              } else if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", c));
              } else if (!printable(c)) {
                out.append(
                    c <= 0xff
                        ? String.format("\\x%02x", c)
                        : c <= 0xffff ? String.format("\\u%04x", c) : String.format("\\U%08x", c));
              } else {
                out.appendCodePoint(c);
              }
            });
    return out.append(quote).toString();
  }

  private static boolean printable(int c) {
    int type = Character.getType(c);
    return c == ' '
        || !(type == Character.CONTROL
            || type == Character.FORMAT
            || type == Character.SURROGATE
            || type == Character.PRIVATE_USE
            || type == Character.UNASSIGNED
            || type == Character.LINE_SEPARATOR
            || type == Character.PARAGRAPH_SEPARATOR
            || type == Character.SPACE_SEPARATOR);
  }

  static boolean isNumber(Object v) {
    return v instanceof Long || v instanceof Double || v instanceof Boolean;
  }

  static boolean isInt(Object v) {
    return v instanceof Long || v instanceof Boolean;
  }

  static long toLong(Object v) {
    return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).longValue();
  }

  static double toDouble(Object v) {
    return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).doubleValue();
  }

  /** Python {@code ==}. */
  static boolean eq(Object a, Object b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null) {
      return false;
    }
    if (isNumber(a) && isNumber(b)) {
      return isInt(a) && isInt(b) ? toLong(a) == toLong(b) : toDouble(a) == toDouble(b);
    }
    if (a instanceof Undefined || b instanceof Undefined) {
      return a instanceof Undefined && b instanceof Undefined;
    }
    if (a instanceof String && b instanceof String) {
      return a.equals(b);
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if ((a instanceof Tuple) != (b instanceof Tuple) || x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!eq(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (Map.Entry<?, ?> e : x.entrySet()) {
        if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  /** Python ordering ({@code <} as a negative result); other types raise TypeError. */
  static int compare(Object a, Object b, String op, int line) {
    if (isNumber(a) && isNumber(b)) {
      return isInt(a) && isInt(b)
          ? Long.compare(toLong(a), toLong(b))
          : Double.compare(toDouble(a), toDouble(b));
    }
    if (a instanceof String x && b instanceof String y) {
      return compareCodePoints(x, y);
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
        if (!eq(x.get(i), y.get(i))) {
          return compare(x.get(i), y.get(i), op, line);
        }
      }
      return Integer.compare(x.size(), y.size());
    }
    throw new TemplateException(
        line,
        "'" + op + "' not supported between instances of " + typeName(a) + " and " + typeName(b));
  }

  static int compareCodePoints(String x, String y) {
    Iterator<Integer> i = x.codePoints().iterator();
    Iterator<Integer> j = y.codePoints().iterator();
    while (i.hasNext() && j.hasNext()) {
      int c = Integer.compare(i.next(), j.next());
      if (c != 0) {
        return c;
      }
    }
    return Boolean.compare(i.hasNext(), j.hasNext());
  }

  /** {@code needle in haystack}. */
  static boolean contains(Object haystack, Object needle, int line) {
    if (haystack instanceof String s) {
      if (!(needle instanceof String n)) {
        throw new TemplateException(
            line, "'in <string>' requires string as left operand, not " + typeName(needle));
      }
      return s.contains(n);
    }
    if (haystack instanceof List<?> list) {
      return list.stream().anyMatch(x -> eq(x, needle));
    }
    if (haystack instanceof Map<?, ?> map) {
      return map.keySet().stream().anyMatch(k -> eq(k, needle));
    }
    if (haystack instanceof Undefined u) {
      throw u.error(line);
    }
    throw new TemplateException(
        line, "argument of type " + typeName(haystack) + " is not iterable");
  }

  /** The items a for loop or filter iterates: a list's items, a dict's keys, a string's chars. */
  static List<Object> iterate(Object v, int line) {
    if (v instanceof List<?> list) {
      return new ArrayList<>(list);
    }
    if (v instanceof Map<?, ?> map) {
      return new ArrayList<>(map.keySet());
    }
    if (v instanceof String s) {
      List<Object> chars = new ArrayList<>();
      s.codePoints().forEach(c -> chars.add(new String(Character.toChars(c))));
      return chars;
    }
    if (v instanceof Undefined) {
      return List.of();
    }
    throw new TemplateException(line, typeName(v) + " object is not iterable");
  }

  static int length(Object v, int line) {
    if (v instanceof String s) {
      return s.codePointCount(0, s.length());
    }
    if (v instanceof List<?> l) {
      return l.size();
    }
    if (v instanceof Map<?, ?> m) {
      return m.size();
    }
    if (v instanceof Undefined) {
      return 0;
    }
    throw new TemplateException(line, "object of type " + typeName(v) + " has no len()");
  }
}
