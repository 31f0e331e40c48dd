package dev.tuneforge.llm.data.jinja;

import dev.tuneforge.llm.data.jinja.Py.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The Python str, list and dict methods chat templates call, with CPython's results. */
final class Methods {
  private Methods() {}

  static Object call(
      Object self, String name, List<Object> args, Map<String, Object> kwargs, int line) {
    if (self instanceof String s) {
      return string(s, name, args, line);
    }
    if (self instanceof List<?> list) {
      return switch (name) {
        case "count" -> list.stream().filter(x -> Py.eq(x, args.get(0))).count();
        case "index" -> {
          for (int i = 0; i < list.size(); i++) {
            if (Py.eq(list.get(i), args.get(0))) {
              yield (long) i;
            }
          }
          throw new TemplateException(line, Py.repr(args.get(0)) + " is not in list");
        }
        default -> throw new TemplateException(line, "list has no method " + name);
      };
    }
    Map<?, ?> map = (Map<?, ?>) self;
    return switch (name) {
      case "get" -> {
        for (Map.Entry<?, ?> e : map.entrySet()) {
          if (Py.eq(e.getKey(), args.get(0))) {
            yield e.getValue();
          }
        }
        yield args.size() > 1 ? args.get(1) : null;
      }
      case "items" -> {
        List<Object> items = new ArrayList<>();
        map.forEach((k, v) -> items.add(new Tuple(java.util.Arrays.asList(k, v))));
        yield items;
      }
      case "keys" -> new ArrayList<Object>(map.keySet());
      case "values" -> new ArrayList<Object>(map.values());
      case "copy" -> new java.util.LinkedHashMap<Object, Object>(map);
      default -> throw new TemplateException(line, "dict has no method " + name);
    };
  }

  private static Object string(String s, String name, List<Object> args, int line) {
    String a0 =
        args.isEmpty() || args.get(0) == null ? null : args.get(0) instanceof String x ? x : null;
    return switch (name) {
      case "startswith", "endswith" -> {
        List<Object> options =
            args.get(0) instanceof List<?> l ? new ArrayList<>(l) : List.of(args.get(0));
        boolean start = name.equals("startswith");
        yield options.stream()
            .anyMatch(o -> start ? s.startsWith(Py.str(o)) : s.endsWith(Py.str(o)));
      }
      case "strip" -> Py.lstrip(Py.rstrip(s, a0), a0);
      case "lstrip" -> Py.lstrip(s, a0);
      case "rstrip" -> Py.rstrip(s, a0);
      case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
      case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
      case "title" -> Filters.title(s);
      case "capitalize" -> Filters.capitalize(s);
      case "replace" -> {
        long count = args.size() > 2 ? Py.toLong(args.get(2)) : -1;
        yield replace(s, Py.str(args.get(0)), Py.str(args.get(1)), count);
      }
      case "split" -> split(s, a0, args.size() > 1 ? Py.toLong(args.get(1)) : -1, line);
      case "rsplit" -> rsplit(s, a0, args.size() > 1 ? Py.toLong(args.get(1)) : -1, line);
      case "splitlines" -> {
        List<Object> lines = new ArrayList<>();
        for (String part :
            s.split("\r\n|[\n\r\u000B\u000C\u001C\u001D\u001E\u0085\u2028\u2029]", -1)) {
          lines.add(part);
        }
        if (!lines.isEmpty() && lines.get(lines.size() - 1).equals("")) {
          lines.remove(lines.size() - 1);
        }
        yield lines;
      }
      case "find", "index" -> {
        int i = s.indexOf(Py.str(args.get(0)));
        if (i < 0 && name.equals("index")) {
          throw new TemplateException(line, "substring not found");
        }
        yield (long) (i < 0 ? -1 : s.codePointCount(0, i));
      }
      case "rfind", "rindex" -> {
        int i = s.lastIndexOf(Py.str(args.get(0)));
        if (i < 0 && name.equals("rindex")) {
          throw new TemplateException(line, "substring not found");
        }
        yield (long) (i < 0 ? -1 : s.codePointCount(0, i));
      }
      case "count" -> {
        String needle = Py.str(args.get(0));
        if (needle.isEmpty()) {
          yield (long) s.codePointCount(0, s.length()) + 1;
        }
        long n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length())) {
          n++;
        }
        yield n;
      }
      case "join" -> {
        StringBuilder out = new StringBuilder();
        List<Object> items = Py.iterate(args.get(0), line);
        for (int i = 0; i < items.size(); i++) {
          out.append(i > 0 ? s : "").append(Py.str(items.get(i)));
        }
        yield out.toString();
      }
      case "isdigit" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
      case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
      case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
      case "isspace" -> Py.isWhitespace(s);
      case "isupper" ->
          s.codePoints().anyMatch(Character::isUpperCase)
              && s.equals(s.toUpperCase(java.util.Locale.ROOT));
      case "islower" ->
          s.codePoints().anyMatch(Character::isLowerCase)
              && s.equals(s.toLowerCase(java.util.Locale.ROOT));
      case "center" -> Filters.center(s, (int) Py.toLong(args.get(0)));
      case "zfill" -> {
        int width = (int) Py.toLong(args.get(0));
        boolean signed = !s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+');
        String digits = signed ? s.substring(1) : s;
        String padded = "0".repeat(Math.max(0, width - s.length())) + digits;
        yield signed ? s.charAt(0) + padded : padded;
      }
      case "format" ->
          throw new TemplateException(
              line, "str.format is not supported in chat templates; use ~ or the format filter");
      default -> throw new TemplateException(line, "str has no method " + name);
    };
  }

  static String replace(String s, String old, String replacement, long count) {
    if (count < 0) {
      return old.isEmpty() ? insertBetween(s, replacement, -1) : s.replace(old, replacement);
    }
    if (old.isEmpty()) {
      return insertBetween(s, replacement, count);
    }
    StringBuilder out = new StringBuilder();
    int from = 0;
    for (long n = 0; n < count; n++) {
      int i = s.indexOf(old, from);
      if (i < 0) {
        break;
      }
      out.append(s, from, i).append(replacement);
      from = i + old.length();
    }
    return out.append(s.substring(from)).toString();
  }

  private static String insertBetween(String s, String r, long count) {
    StringBuilder out = new StringBuilder();
    int[] cps = s.codePoints().toArray();
    long n = 0;
    for (int i = 0; i <= cps.length; i++) {
      if (count < 0 || n < count) {
        out.append(r);
        n++;
      }
      if (i < cps.length) {
        out.appendCodePoint(cps[i]);
      }
    }
    return out.toString();
  }

  static List<Object> split(String s, String sep, long max, int line) {
    List<Object> out = new ArrayList<>();
    if (sep == null) {
      int i = 0;
      int n = s.length();
      while (true) {
        while (i < n && Py.isSpace(s.charAt(i))) {
          i++;
        }
        if (i >= n) {
          break;
        }
        if (max >= 0 && out.size() >= max) {
          out.add(Py.rstrip(s.substring(i), null));
          break;
        }
        int j = i;
        while (j < n && !Py.isSpace(s.charAt(j))) {
          j++;
        }
        out.add(s.substring(i, j));
        i = j;
      }
      return out;
    }
    if (sep.isEmpty()) {
      throw new TemplateException(line, "empty separator");
    }
    int from = 0;
    while (max < 0 || out.size() < max) {
      int i = s.indexOf(sep, from);
      if (i < 0) {
        break;
      }
      out.add(s.substring(from, i));
      from = i + sep.length();
    }
    out.add(s.substring(from));
    return out;
  }

  static List<Object> rsplit(String s, String sep, long max, int line) {
    if (max < 0) {
      return split(s, sep, -1, line);
    }
    if (sep == null) {
      List<Object> out = new ArrayList<>();
      int j = s.length();
      while (true) {
        while (j > 0 && Py.isSpace(s.charAt(j - 1))) {
          j--;
        }
        if (j <= 0) {
          break;
        }
        if (out.size() >= max) {
          out.add(0, Py.lstrip(s.substring(0, j), null));
          break;
        }
        int i = j;
        while (i > 0 && !Py.isSpace(s.charAt(i - 1))) {
          i--;
        }
        out.add(0, s.substring(i, j));
        j = i;
      }
      return out;
    }
    List<Object> out = new ArrayList<>();
    int end = s.length();
    while (out.size() < max) {
      int i = s.lastIndexOf(sep, end - sep.length());
      if (i < 0) {
        break;
      }
      out.add(0, s.substring(i + sep.length(), end));
      end = i;
    }
    out.add(0, s.substring(0, end));
    return out;
  }
}
