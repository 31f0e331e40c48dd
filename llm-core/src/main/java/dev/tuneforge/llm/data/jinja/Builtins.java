package dev.tuneforge.llm.data.jinja;

import dev.tuneforge.llm.data.jinja.Py.Tuple;
import dev.tuneforge.llm.data.jinja.Py.Undefined;
import dev.tuneforge.llm.data.jinja.Renderer.Loop;
import dev.tuneforge.llm.data.jinja.Renderer.Namespace;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Attribute and item access as jinja2's sandbox does it, the Python methods templates call on
 * strings, lists and dicts, and the globals transformers provides (range, dict, namespace,
 * raise_exception, strftime_now). Methods that would mutate a value are refused, as in jinja2's
 * ImmutableSandboxedEnvironment.
 */
final class Builtins {
  /** A method looked up on a value, called later. */
  record Method(Object self, String name) {}

  /** A global function. */
  record Function(String name) {}

  private static final Set<String> STRING_METHODS =
      Set.of(
          "capitalize",
          "center",
          "count",
          "endswith",
          "find",
          "index",
          "isalnum",
          "isalpha",
          "isdigit",
          "islower",
          "isspace",
          "isupper",
          "join",
          "lower",
          "lstrip",
          "replace",
          "rfind",
          "rindex",
          "rsplit",
          "rstrip",
          "split",
          "splitlines",
          "startswith",
          "strip",
          "title",
          "upper",
          "zfill",
          "format");
  private static final Set<String> LIST_METHODS = Set.of("count", "index");
  private static final Set<String> LIST_MUTATORS =
      Set.of("append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort");
  private static final Set<String> DICT_METHODS = Set.of("get", "items", "keys", "values", "copy");
  private static final Set<String> DICT_MUTATORS =
      Set.of("clear", "pop", "popitem", "setdefault", "update");

  private final Supplier<ZonedDateTime> clock;

  Builtins(Supplier<ZonedDateTime> clock) {
    this.clock = clock;
  }

  static Map<String, Object> globals() {
    Map<String, Object> globals = new LinkedHashMap<>();
    for (String name : List.of("range", "dict", "namespace", "raise_exception", "strftime_now")) {
      globals.put(name, new Function(name));
    }
    return globals;
  }

  /** {@code target.name}: an attribute (a method), else the item {@code target[name]}. */
  Object getattr(Object target, String name, int line) {
    if (target instanceof Undefined u) {
      throw u.error(line);
    }
    if (name.startsWith("_")) {
      return new Undefined(
          "access to attribute '" + name + "' of " + Py.typeName(target) + " object is unsafe.");
    }
    if (target instanceof Loop loop) {
      return loopAttr(loop, name, line);
    }
    if (target instanceof Namespace ns) {
      return ns.containsKey(name) ? ns.get(name) : Py.undefinedAttr(target, name);
    }
    Object method = method(target, name, line);
    if (method != null) {
      return method;
    }
    if (target instanceof Map<?, ?> map && map.containsKey(name)) {
      return map.get(name);
    }
    return Py.undefinedAttr(target, name);
  }

  /** {@code target[key]}: the item, else an attribute of that name, else Undefined. */
  Object getitem(Object target, Object key, int line) {
    if (target instanceof Undefined u) {
      throw u.error(line);
    }
    if (target instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (Py.eq(e.getKey(), key)) {
          return e.getValue();
        }
      }
    } else if ((target instanceof List || target instanceof String) && Py.isInt(key)) {
      List<Object> items = target instanceof String ? Py.iterate(target, line) : null;
      int size = items != null ? items.size() : ((List<?>) target).size();
      long index = Py.toLong(key);
      if (index < 0) {
        index += size;
      }
      if (index >= 0 && index < size) {
        return items != null ? items.get((int) index) : ((List<?>) target).get((int) index);
      }
      return new Undefined(Py.typeName(target) + " object has no element " + key);
    }
    if (key instanceof String name) {
      return getattr(target, name, line);
    }
    return new Undefined(Py.typeName(target) + " object has no element " + Py.repr(key));
  }

  private Object method(Object target, String name, int line) {
    boolean known =
        target instanceof String && STRING_METHODS.contains(name)
            || target instanceof List && LIST_METHODS.contains(name)
            || target instanceof Map
                && !(target instanceof Namespace)
                && DICT_METHODS.contains(name);
    if (known) {
      return new Method(target, name);
    }
    if (target instanceof List && LIST_MUTATORS.contains(name)
        || target instanceof Map && DICT_MUTATORS.contains(name)) {
      return new Undefined(
          "access to attribute '" + name + "' of " + Py.typeName(target) + " object is unsafe.");
    }
    return null;
  }

  private static Object loopAttr(Loop loop, String name, int line) {
    int n = loop.items.size();
    int i = loop.index;
    return switch (name) {
      case "index" -> (long) i + 1;
      case "index0" -> (long) i;
      case "revindex" -> (long) (n - i);
      case "revindex0" -> (long) (n - i - 1);
      case "first" -> i == 0;
      case "last" -> i == n - 1;
      case "length" -> (long) n;
      case "depth" -> 1L;
      case "depth0" -> 0L;
      case "previtem" -> i > 0 ? loop.items.get(i - 1) : new Undefined("there is no previous item");
      case "nextitem" -> i < n - 1 ? loop.items.get(i + 1) : new Undefined("there is no next item");
      case "cycle" -> new Method(loop, "cycle");
      default -> Py.undefinedAttr(loop, name);
    };
  }

  Object call(Object target, List<Object> args, Map<String, Object> kwargs, int line) {
    if (target instanceof Undefined u) {
      throw u.error(line);
    }
    if (target instanceof Function f) {
      return callFunction(f.name(), args, kwargs, line);
    }
    if (target instanceof Method m) {
      if (m.self() instanceof Loop loop) {
        if (args.isEmpty()) {
          throw new TemplateException(line, "no items for cycling given");
        }
        return args.get(loop.index % args.size());
      }
      return Methods.call(m.self(), m.name(), args, kwargs, line);
    }
    throw new TemplateException(line, Py.typeName(target) + " object is not callable");
  }

  private Object callFunction(
      String name, List<Object> args, Map<String, Object> kwargs, int line) {
    switch (name) {
      case "range" -> {
        long start = 0;
        long stop;
        long step = 1;
        if (args.size() == 1) {
          stop = Py.toLong(args.get(0));
        } else {
          start = Py.toLong(args.get(0));
          stop = Py.toLong(args.get(1));
          if (args.size() > 2) {
            step = Py.toLong(args.get(2));
          }
        }
        if (step == 0) {
          throw new TemplateException(line, "range() arg 3 must not be zero");
        }
        List<Object> out = new ArrayList<>();
        for (long v = start; step > 0 ? v < stop : v > stop; v += step) {
          out.add(v);
        }
        return out;
      }
      case "dict" -> {
        Map<Object, Object> out = new LinkedHashMap<>();
        if (!args.isEmpty() && args.get(0) instanceof Map<?, ?> m) {
          out.putAll(m);
        }
        out.putAll(kwargs);
        return out;
      }
      case "namespace" -> {
        Namespace ns = new Namespace();
        if (!args.isEmpty() && args.get(0) instanceof Map<?, ?> m) {
          m.forEach((k, v) -> ns.put(Py.str(k), v));
        }
        ns.putAll(kwargs);
        return ns;
      }
      case "raise_exception" ->
          throw new RaisedException(line, args.isEmpty() ? "" : Py.str(args.get(0)));
      case "strftime_now" -> {
        return strftime(clock.get(), Py.str(args.get(0)));
      }
      default -> throw new TemplateException(line, "'" + name + "' is undefined");
    }
  }

  /** An error the template raised itself with raise_exception(message). */
  static final class RaisedException extends TemplateException {
    final String raised;

    RaisedException(int line, String message) {
      super(line, "raise_exception: " + message);
      this.raised = message;
    }
  }

  /** C strftime on a date, for the codes chat templates use (glibc's {@code %-d} included). */
  static String strftime(ZonedDateTime t, String format) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 >= format.length()) {
        out.append(c);
        continue;
      }
      char code = format.charAt(++i);
      boolean noPad = false;
      if (code == '-' && i + 1 < format.length()) {
        noPad = true;
        code = format.charAt(++i);
      }
      String pad2 = noPad ? "%d" : "%02d";
      switch (code) {
        case 'Y' -> out.append(t.getYear());
        case 'y' -> out.append(String.format(pad2, t.getYear() % 100));
        case 'm' -> out.append(String.format(pad2, t.getMonthValue()));
        case 'd' -> out.append(String.format(pad2, t.getDayOfMonth()));
        case 'e' -> out.append(String.format("%2d", t.getDayOfMonth()));
        case 'H' -> out.append(String.format(pad2, t.getHour()));
        case 'I' -> out.append(String.format(pad2, (t.getHour() + 11) % 12 + 1));
        case 'M' -> out.append(String.format(pad2, t.getMinute()));
        case 'S' -> out.append(String.format(pad2, t.getSecond()));
        case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
        case 'j' -> out.append(String.format(noPad ? "%d" : "%03d", t.getDayOfYear()));
        case 'b', 'h' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US));
        case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.US));
        case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US));
        case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US));
        case '%' -> out.append('%');
        default -> out.append('%').append(noPad ? "-" : "").append(code);
      }
    }
    return out.toString();
  }

  /** Python slicing {@code v[start:stop:step]} of a list or string. */
  static Object slice(Object v, Object start, Object stop, Object step, int line) {
    List<Object> items = Py.iterate(Renderer.undefinedChecked(v, line), line);
    int n = items.size();
    long s = step == null ? 1 : Py.toLong(step);
    if (s == 0) {
      throw new TemplateException(line, "slice step cannot be zero");
    }
    long lo = bound(start, n, s > 0 ? 0 : n - 1, s);
    long hi = bound(stop, n, s > 0 ? n : -1, s);
    List<Object> out = new ArrayList<>();
    for (long i = lo; s > 0 ? i < hi : i > hi; i += s) {
      out.add(items.get((int) i));
    }
    if (v instanceof String) {
      StringBuilder text = new StringBuilder();
      out.forEach(x -> text.append((String) x));
      return text.toString();
    }
    return v instanceof Tuple ? new Tuple(out) : out;
  }

  private static long bound(Object index, int n, long otherwise, long step) {
    if (index == null) {
      return otherwise;
    }
    long i = Py.toLong(index);
    if (i < 0) {
      i += n;
      if (i < 0) {
        i = step > 0 ? 0 : -1;
      }
    } else if (i >= n) {
      i = step > 0 ? n : n - 1;
    }
    return i;
  }

  /** {@code format % values} for %s, %r, %d, %i, %f and %%. */
  static String percentFormat(String format, Object values, int line) {
    List<Object> args = values instanceof Tuple t ? t : List.of(values == null ? "None" : values);
    if (values == null) {
      args = java.util.Collections.singletonList(null);
    }
    StringBuilder out = new StringBuilder();
    int next = 0;
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 >= format.length()) {
        out.append(c);
        continue;
      }
      char code = format.charAt(++i);
      if (code == '%') {
        out.append('%');
        continue;
      }
      if (next >= args.size()) {
        throw new TemplateException(line, "not enough arguments for format string");
      }
      Object arg = args.get(next++);
      switch (code) {
        case 's' -> out.append(Py.str(arg));
        case 'r' -> out.append(Py.repr(arg));
        case 'd', 'i' -> out.append(Py.toLong(arg));
        case 'f' -> out.append(String.format(Locale.ROOT, "%f", Py.toDouble(arg)));
        default -> throw new TemplateException(line, "unsupported format character '" + code + "'");
      }
    }
    return out.toString();
  }

  // ---- filters and tests, in Filters
  Object filter(Node.Filter node, Object value, Renderer renderer, Renderer.Scope scope) {
    List<Object> args = new ArrayList<>();
    for (Node arg : node.args()) {
      args.add(renderer.eval(arg, scope));
    }
    Map<String, Object> kwargs = new LinkedHashMap<>();
    for (int i = 0; i < node.kwNames().size(); i++) {
      kwargs.put(node.kwNames().get(i), renderer.eval(node.kwValues().get(i), scope));
    }
    return Filters.apply(this, node.name(), value, args, kwargs, node.line());
  }

  boolean test(String name, Object value, List<Object> args, int line) {
    return Filters.test(this, name, value, args, line);
  }

  static void checkFilter(String name, int line) {
    if (!Filters.FILTERS.contains(name)) {
      throw new TemplateException(line, "no filter named '" + name + "'");
    }
  }

  static void checkTest(String name, int line) {
    if (!Filters.TESTS.contains(name)) {
      throw new TemplateException(line, "no test named '" + name + "'");
    }
  }
}
