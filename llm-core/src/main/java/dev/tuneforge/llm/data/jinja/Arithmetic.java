package dev.tuneforge.llm.data.jinja;

import dev.tuneforge.llm.data.jinja.Py.Tuple;
import dev.tuneforge.llm.data.jinja.Py.Undefined;
import java.util.ArrayList;
import java.util.List;

/** Python's binary operators on template values: + - * / // % **. */
final class Arithmetic {
  private Arithmetic() {}

  static Object apply(String op, Object a, Object b, int line) {
    if (a instanceof Undefined u) {
      throw u.error(line);
    }
    if (b instanceof Undefined u) {
      throw u.error(line);
    }
    if (Py.isNumber(a) && Py.isNumber(b)) {
      return numeric(op, a, b, line);
    }
    switch (op) {
      case "+" -> {
        if (a instanceof String x && b instanceof String y) {
          return x + y;
        }
        if (a instanceof List<?> x
            && b instanceof List<?> y
            && (a instanceof Tuple) == (b instanceof Tuple)) {
          List<Object> joined = new ArrayList<>(x);
          joined.addAll(y);
          return a instanceof Tuple ? new Tuple(joined) : joined;
        }
        if (a instanceof String) {
          throw new TemplateException(
              line,
              "can only concatenate str (not " + Py.typeName(b).replace("'", "\"") + ") to str");
        }
      }
      case "*" -> {
        if (Py.isInt(b) && (a instanceof String || a instanceof List)) {
          return repeat(a, Py.toLong(b));
        }
        if (Py.isInt(a) && (b instanceof String || b instanceof List)) {
          return repeat(b, Py.toLong(a));
        }
      }
      case "%" -> {
        if (a instanceof String format) {
          return Builtins.percentFormat(format, b, line);
        }
      }
      default -> {}
    }
    throw new TemplateException(
        line,
        "unsupported operand type(s) for " + op + ": " + Py.typeName(a) + " and " + Py.typeName(b));
  }

  private static Object repeat(Object v, long times) {
    if (v instanceof String s) {
      return s.repeat((int) Math.max(0, times));
    }
    List<Object> out = new ArrayList<>();
    for (long i = 0; i < times; i++) {
      out.addAll((List<?>) v);
    }
    return v instanceof Tuple ? new Tuple(out) : out;
  }

  private static Object numeric(String op, Object a, Object b, int line) {
    boolean ints = Py.isInt(a) && Py.isInt(b);
    if (op.equals("/")) {
      double divisor = Py.toDouble(b);
      if (divisor == 0) {
        throw new TemplateException(line, "division by zero");
      }
      return Py.toDouble(a) / divisor;
    }
    if (ints) {
      long x = Py.toLong(a);
      long y = Py.toLong(b);
      return switch (op) {
        case "+" -> x + y;
        case "-" -> x - y;
        case "*" -> x * y;
        case "//" -> {
          if (y == 0) {
            throw new TemplateException(line, "integer division or modulo by zero");
          }
          yield Math.floorDiv(x, y);
        }
        case "%" -> {
          if (y == 0) {
            throw new TemplateException(line, "integer division or modulo by zero");
          }
          yield Math.floorMod(x, y);
        }
        case "**" -> y >= 0 ? (Object) pow(x, y) : (Object) Math.pow(x, y);
        default -> throw new TemplateException(line, "unknown operator " + op);
      };
    }
    double x = Py.toDouble(a);
    double y = Py.toDouble(b);
    return switch (op) {
      case "+" -> x + y;
      case "-" -> x - y;
      case "*" -> x * y;
      case "//" -> {
        if (y == 0) {
          throw new TemplateException(line, "float floor division by zero");
        }
        yield Math.floor(x / y);
      }
      case "%" -> {
        if (y == 0) {
          throw new TemplateException(line, "float modulo");
        }
        double m = x % y;
        yield m != 0 && (m < 0) != (y < 0) ? m + y : m;
      }
      case "**" -> Math.pow(x, y);
      default -> throw new TemplateException(line, "unknown operator " + op);
    };
  }

  private static long pow(long base, long exponent) {
    long result = 1;
    for (long i = 0; i < exponent; i++) {
      result = Math.multiplyExact(result, base);
    }
    return result;
  }
}
