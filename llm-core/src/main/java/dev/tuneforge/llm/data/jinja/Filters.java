package dev.tuneforge.llm.data.jinja;

import dev.tuneforge.llm.data.jinja.Py.Tuple;
import dev.tuneforge.llm.data.jinja.Py.Undefined;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * jinja2's built-in filters and tests that chat templates use, with transformers' {@code tojson}
 * ({@code json.dumps} with {@code ensure_ascii=False}) in place of jinja2's HTML-safe one.
 */
final class Filters {
  static final Set<String> FILTERS =
      Set.of(
          "abs",
          "attr",
          "capitalize",
          "center",
          "count",
          "d",
          "default",
          "dictsort",
          "e",
          "escape",
          "first",
          "float",
          "indent",
          "int",
          "items",
          "join",
          "last",
          "length",
          "list",
          "lower",
          "map",
          "max",
          "min",
          "reject",
          "rejectattr",
          "replace",
          "reverse",
          "round",
          "safe",
          "select",
          "selectattr",
          "sort",
          "string",
          "sum",
          "title",
          "tojson",
          "trim",
          "unique",
          "upper",
          "wordcount");
  static final Set<String> TESTS =
      Set.of(
          "boolean",
          "callable",
          "defined",
          "divisibleby",
          "eq",
          "equalto",
          "==",
          "escaped",
          "even",
          "false",
          "float",
          "ge",
          ">=",
          "gt",
          ">",
          "greaterthan",
          "in",
          "integer",
          "iterable",
          "le",
          "<=",
          "lower",
          "lt",
          "<",
          "lessthan",
          "mapping",
          "ne",
          "!=",
          "none",
          "number",
          "odd",
          "sameas",
          "sequence",
          "string",
          "true",
          "undefined",
          "upper");

  private Filters() {}

  private static Object arg(
      List<Object> args, Map<String, Object> kwargs, int i, String name, Object otherwise) {
    if (i < args.size()) {
      return args.get(i);
    }
    return kwargs.getOrDefault(name, otherwise);
  }

  static Object apply(
      Builtins b, String name, Object v, List<Object> args, Map<String, Object> kw, int line) {
    switch (name) {
      case "default", "d" -> {
        Object otherwise = arg(args, kw, 0, "default_value", "");
        boolean boolean_ = Py.truthy(arg(args, kw, 1, "boolean", false));
        return v instanceof Undefined || (boolean_ && !Py.truthy(v)) ? otherwise : v;
      }
      case "length", "count" -> {
        return (long) Py.length(v, line);
      }
      case "safe" -> {
        return v;
      }
      case "tojson" -> {
        String indent = Json.indent(arg(args, kw, 0, "indent", null));
        Object separators = kw.get("separators");
        List<String> seps = Json.separators(separators, indent);
        boolean sort = Py.truthy(kw.getOrDefault("sort_keys", false));
        return Json.dumps(v, indent, seps.get(0), seps.get(1), sort, line);
      }
      default -> {}
    }
    if (v instanceof Undefined u
        && !Set.of("list", "join", "items", "string", "first", "last").contains(name)) {
      throw u.error(line);
    }
    return switch (name) {
      case "abs" ->
          Py.isInt(v) ? (Object) Math.abs(Py.toLong(v)) : (Object) Math.abs(Py.toDouble(v));
      case "attr" -> b.getattr(v, Py.str(args.get(0)), line);
      case "capitalize" -> capitalize(Py.str(v));
      case "center" -> center(Py.str(v), (int) Py.toLong(arg(args, kw, 0, "width", 80L)));
      case "dictsort" -> {
        List<Object> items = new ArrayList<>();
        ((Map<?, ?>) v).forEach((k, x) -> items.add(new Tuple(java.util.Arrays.asList(k, x))));
        boolean byValue = "value".equals(arg(args, kw, 2, "by", "key"));
        items.sort(
            (x, y) ->
                Py.compare(
                    lowered(((List<?>) x).get(byValue ? 1 : 0)),
                    lowered(((List<?>) y).get(byValue ? 1 : 0)),
                    "<",
                    line));
        if (Py.truthy(arg(args, kw, 3, "reverse", false))) {
          java.util.Collections.reverse(items);
        }
        yield items;
      }
      case "escape", "e" ->
          Py.str(v)
              .replace("&", "&amp;")
              .replace("<", "&lt;")
              .replace(">", "&gt;")
              .replace("\"", "&#34;")
              .replace("'", "&#39;");
      case "first" -> {
        List<Object> items = Py.iterate(v, line);
        yield items.isEmpty() ? new Undefined("No first item, sequence was empty.") : items.get(0);
      }
      case "last" -> {
        List<Object> items = Py.iterate(v, line);
        yield items.isEmpty()
            ? new Undefined("No last item, sequence was empty.")
            : items.get(items.size() - 1);
      }
      case "float" -> {
        try {
          yield v instanceof String s ? Double.parseDouble(s.strip()) : Py.toDouble(v);
        } catch (RuntimeException notNumber) {
          yield arg(args, kw, 0, "default", 0.0);
        }
      }
      case "int" -> {
        try {
          yield v instanceof String s ? Long.parseLong(s.strip()) : Py.toLong(v);
        } catch (RuntimeException notNumber) {
          yield arg(args, kw, 0, "default", 0L);
        }
      }
      case "indent" ->
          indent(
              Py.str(v),
              arg(args, kw, 0, "width", 4L),
              Py.truthy(arg(args, kw, 1, "first", false)),
              Py.truthy(arg(args, kw, 2, "blank", false)));
      case "items" ->
          v instanceof Undefined ? List.of() : Methods.call(v, "items", List.of(), Map.of(), line);
      case "join" -> {
        Object attribute = arg(args, kw, 1, "attribute", null);
        List<Object> items = Py.iterate(v, line);
        StringBuilder out = new StringBuilder();
        String sep = Py.str(arg(args, kw, 0, "d", ""));
        for (int i = 0; i < items.size(); i++) {
          Object item = attribute == null ? items.get(i) : b.getitem(items.get(i), attribute, line);
          out.append(i > 0 ? sep : "").append(Py.str(item));
        }
        yield out.toString();
      }
      case "list" -> Py.iterate(v, line);
      case "lower" -> Py.str(v).toLowerCase(Locale.ROOT);
      case "upper" -> Py.str(v).toUpperCase(Locale.ROOT);
      case "map" -> {
        List<Object> out = new ArrayList<>();
        Object attribute = kw.get("attribute");
        for (Object item : Py.iterate(v, line)) {
          if (attribute != null) {
            Object got = b.getitem(item, attribute, line);
            out.add(
                got instanceof Undefined && kw.containsKey("default") ? kw.get("default") : got);
          } else {
            out.add(
                apply(b, Py.str(args.get(0)), item, args.subList(1, args.size()), Map.of(), line));
          }
        }
        yield out;
      }
      case "max", "min" -> {
        List<Object> items = Py.iterate(v, line);
        if (items.isEmpty()) {
          yield new Undefined("No aggregated item, sequence was empty.");
        }
        Object attribute = kw.get("attribute");
        Comparator<Object> order =
            (x, y) ->
                Py.compare(
                    lowered(attribute == null ? x : b.getitem(x, attribute, line)),
                    lowered(attribute == null ? y : b.getitem(y, attribute, line)),
                    "<",
                    line);
        yield name.equals("max")
            ? items.stream().max(order).get()
            : items.stream().min(order).get();
      }
      case "select", "reject", "selectattr", "rejectattr" -> {
        boolean byAttr = name.endsWith("attr");
        boolean keep = name.startsWith("select");
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(v, line)) {
          Object subject = byAttr ? b.getattr(item, Py.str(args.get(0)), line) : item;
          int testAt = byAttr ? 1 : 0;
          boolean passed =
              args.size() > testAt
                  ? test(
                      b,
                      Py.str(args.get(testAt)),
                      subject,
                      args.subList(testAt + 1, args.size()),
                      line)
                  : Py.truthy(subject);
          if (passed == keep) {
            out.add(item);
          }
        }
        yield out;
      }
      case "replace" ->
          Methods.replace(
              Py.str(v),
              Py.str(args.get(0)),
              Py.str(args.get(1)),
              args.size() > 2 ? Py.toLong(args.get(2)) : -1);
      case "reverse" -> {
        if (v instanceof String s) {
          yield new StringBuilder(s).reverse().toString();
        }
        List<Object> items = Py.iterate(v, line);
        java.util.Collections.reverse(items);
        yield items;
      }
      case "round" -> {
        int precision = (int) Py.toLong(arg(args, kw, 0, "precision", 0L));
        String method = Py.str(arg(args, kw, 1, "method", "common"));
        RoundingMode mode =
            switch (method) {
              case "ceil" -> RoundingMode.CEILING;
              case "floor" -> RoundingMode.FLOOR;
              default -> RoundingMode.HALF_UP;
            };
        yield new BigDecimal(Py.toDouble(v)).setScale(precision, mode).doubleValue();
      }
      case "sort" -> {
        List<Object> items = Py.iterate(v, line);
        Object attribute = arg(args, kw, 2, "attribute", null);
        items.sort(
            (x, y) ->
                Py.compare(
                    lowered(attribute == null ? x : b.getitem(x, attribute, line)),
                    lowered(attribute == null ? y : b.getitem(y, attribute, line)),
                    "<",
                    line));
        if (Py.truthy(arg(args, kw, 0, "reverse", false))) {
          java.util.Collections.reverse(items);
        }
        yield items;
      }
      case "string" -> Py.str(v);
      case "sum" -> {
        Object total = arg(args, kw, 1, "start", 0L);
        Object attribute = arg(args, kw, 0, "attribute", null);
        for (Object item : Py.iterate(v, line)) {
          total =
              Arithmetic.apply(
                  "+", total, attribute == null ? item : b.getitem(item, attribute, line), line);
        }
        yield total;
      }
      case "title" -> title(Py.str(v));
      case "trim" -> {
        Object chars = arg(args, kw, 0, "chars", null);
        String c = chars == null ? null : Py.str(chars);
        yield Py.lstrip(Py.rstrip(Py.str(v), c), c);
      }
      case "unique" -> {
        List<Object> out = new ArrayList<>();
        List<Object> seen = new ArrayList<>();
        for (Object item : Py.iterate(v, line)) {
          Object key = lowered(item);
          if (seen.stream().noneMatch(x -> Py.eq(x, key))) {
            seen.add(key);
            out.add(item);
          }
        }
        yield out;
      }
      case "wordcount" -> (long) Py.str(v).split("\\w+", -1).length - 1;
      default -> throw new TemplateException(line, "no filter named '" + name + "'");
    };
  }

  private static Object lowered(Object v) {
    return v instanceof String s ? s.toLowerCase(Locale.ROOT) : v;
  }

  static boolean test(Builtins b, String name, Object v, List<Object> args, int line) {
    Object a = args.isEmpty() ? null : args.get(0);
    return switch (name) {
      case "defined" -> !(v instanceof Undefined);
      case "undefined" -> v instanceof Undefined;
      case "none" -> v == null;
      case "boolean" -> v instanceof Boolean;
      case "true" -> Boolean.TRUE.equals(v);
      case "false" -> Boolean.FALSE.equals(v);
      case "integer" -> v instanceof Long;
      case "float" -> v instanceof Double;
      case "number" -> Py.isNumber(v);
      case "string" -> v instanceof String;
      case "mapping" -> v instanceof Map;
      case "iterable" -> v instanceof List || v instanceof Map || v instanceof String;
      case "sequence" -> v instanceof List || v instanceof Map || v instanceof String;
      case "callable" ->
          v instanceof Builtins.Method
              || v instanceof Builtins.Function
              || v instanceof Renderer.Macro;
      case "escaped" -> false;
      case "sameas" ->
          v == a || (v != null && (v instanceof Boolean || v instanceof Long) && v.equals(a));
      case "odd" -> Py.toLong(Renderer.undefinedChecked(v, line)) % 2 != 0;
      case "even" -> Py.toLong(Renderer.undefinedChecked(v, line)) % 2 == 0;
      case "divisibleby" -> Py.toLong(v) % Py.toLong(a) == 0;
      case "eq", "equalto", "==" -> Py.eq(v, a);
      case "ne", "!=" -> !Py.eq(v, a);
      case "lt", "<", "lessthan" -> Py.compare(v, a, "<", line) < 0;
      case "le", "<=" -> Py.compare(v, a, "<=", line) <= 0;
      case "gt", ">", "greaterthan" -> Py.compare(v, a, ">", line) > 0;
      case "ge", ">=" -> Py.compare(v, a, ">=", line) >= 0;
      case "in" -> Py.contains(a, v, line);
      case "lower" -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
      case "upper" -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
      default -> throw new TemplateException(line, "no test named '" + name + "'");
    };
  }

  static String capitalize(String s) {
    if (s.isEmpty()) {
      return s;
    }
    int first = s.codePointAt(0);
    return new String(Character.toChars(Character.toUpperCase(first)))
        + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
  }

  /** Python's str.title: a letter after a non-letter is upper case, the others lower. */
  static String title(String s) {
    StringBuilder out = new StringBuilder();
    boolean previousCased = false;
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      out.appendCodePoint(previousCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
      previousCased = Character.isLetter(c);
      i += Character.charCount(c);
    }
    return out.toString();
  }

  static String center(String s, int width) {
    int n = s.codePointCount(0, s.length());
    if (width <= n) {
      return s;
    }
    int total = width - n;
    int left = total / 2 + (total & width & 1);
    return " ".repeat(left) + s + " ".repeat(total - left);
  }

  /** jinja2's indent: every line after the first (and the first too with first=True). */
  @SuppressWarnings("unchecked")
  private static String indent(String s, Object width, boolean first, boolean blank) {
    String pad = width instanceof String w ? w : " ".repeat((int) Py.toLong(width));
    List<Object> lines =
        (List<Object>) Methods.call(s + "\n", "splitlines", List.of(), Map.of(), 0);
    StringBuilder out = new StringBuilder();
    if (blank) {
      for (int i = 0; i < lines.size(); i++) {
        out.append(i > 0 ? "\n" + pad : "").append(lines.get(i));
      }
    } else {
      out.append(lines.isEmpty() ? "" : lines.get(0));
      for (int i = 1; i < lines.size(); i++) {
        String line = (String) lines.get(i);
        out.append('\n').append(line.isEmpty() ? "" : pad).append(line);
      }
    }
    return first ? pad + out : out.toString();
  }
}
