package dev.tuneforge.llm.data.jinja;

import dev.tuneforge.llm.data.jinja.Py.Tuple;
import dev.tuneforge.llm.data.jinja.Py.Undefined;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs parsed statements against a scope chain with jinja2's scoping: a for loop's body has its own
 * scope, {@code if} does not, and a macro sees its arguments over the template's top scope.
 */
final class Renderer {
  /** Variables visible at one level; lookups fall through to the parent. */
  static final class Scope {
    final Scope parent;
    final Map<String, Object> vars = new HashMap<>();

    Scope(Scope parent) {
      this.parent = parent;
    }

    Object get(String name) {
      for (Scope s = this; s != null; s = s.parent) {
        if (s.vars.containsKey(name)) {
          return s.vars.get(name);
        }
      }
      return Py.undefinedName(name);
    }
  }

  /** {@code namespace(...)}: the one object a template may assign attributes on. */
  static final class Namespace extends LinkedHashMap<String, Object> {}

  /** A template macro, callable from expressions. */
  record Macro(Node.Macro node, Scope closure) {}

  /** A loop's {@code loop} variable. */
  static final class Loop {
    final List<Object> items;
    int index;

    Loop(List<Object> items) {
      this.items = items;
    }
  }

  private static final class BreakSignal extends RuntimeException {
    BreakSignal() {
      super(null, null, false, false);
    }
  }

  private static final class ContinueSignal extends RuntimeException {
    ContinueSignal() {
      super(null, null, false, false);
    }
  }

  private final StringBuilder root;
  private final List<int[]> spans;
  private final Builtins builtins;
  private StringBuilder out;

  Renderer(StringBuilder root, List<int[]> spans, Builtins builtins) {
    this.root = root;
    this.out = root;
    this.spans = spans;
    this.builtins = builtins;
  }

  void run(List<Node> nodes, Scope scope) {
    for (Node node : nodes) {
      execute(node, scope);
    }
  }

  private void execute(Node node, Scope scope) {
    if (node instanceof Node.Text t) {
      out.append(t.text());
    } else if (node instanceof Node.Print p) {
      out.append(Py.str(eval(p.expr(), scope)));
    } else if (node instanceof Node.If i) {
      run(Py.truthy(eval(i.test(), scope)) ? i.body() : i.orElse(), scope);
    } else if (node instanceof Node.For f) {
      loop(f, scope);
    } else if (node instanceof Node.Set s) {
      assign(s.target(), eval(s.value(), scope), scope, s.line());
    } else if (node instanceof Node.SetBlock s) {
      assign(s.target(), filtered(capture(s.body(), scope), s.filters(), scope), scope, s.line());
    } else if (node instanceof Node.Macro m) {
      scope.vars.put(m.name(), new Macro(m, scope));
    } else if (node instanceof Node.FilterBlock f) {
      out.append(Py.str(filtered(capture(f.body(), scope), f.filters(), scope)));
    } else if (node instanceof Node.Generation g) {
      if (out != root) {
        throw new TemplateException(
            g.line(), "{% generation %} inside a macro, set or filter block is not supported");
      }
      int start = root.length();
      run(g.body(), scope);
      spans.add(new int[] {start, root.length()});
    } else if (node instanceof Node.Break) {
      throw new BreakSignal();
    } else if (node instanceof Node.Continue) {
      throw new ContinueSignal();
    } else {
      throw new TemplateException(node.line(), "not a statement: " + node);
    }
  }

  private Object filtered(Object value, List<Node.Filter> filters, Scope scope) {
    for (Node.Filter filter : filters) {
      value = builtins.filter(filter, value, this, scope);
    }
    return value;
  }

  /** Renders {@code body} into a string of its own. */
  String capture(List<Node> body, Scope scope) {
    StringBuilder saved = out;
    out = new StringBuilder();
    try {
      run(body, scope);
      return out.toString();
    } finally {
      out = saved;
    }
  }

  private void loop(Node.For f, Scope scope) {
    List<Object> items = Py.iterate(eval(f.iter(), scope), f.line());
    Scope body = new Scope(scope);
    if (f.filter() != null) {
      List<Object> kept = new ArrayList<>();
      for (Object item : items) {
        assign(f.target(), item, body, f.line());
        if (Py.truthy(eval(f.filter(), body))) {
          kept.add(item);
        }
      }
      items = kept;
    }
    if (items.isEmpty()) {
      run(f.orElse(), scope);
      return;
    }
    Loop loop = new Loop(items);
    body.vars.put("loop", loop);
    for (int i = 0; i < items.size(); i++) {
      loop.index = i;
      assign(f.target(), items.get(i), body, f.line());
      try {
        run(f.body(), body);
      } catch (ContinueSignal next) {
        // on to the next item
      } catch (BreakSignal stop) {
        break;
      }
    }
  }

  private void assign(Node target, Object value, Scope scope, int line) {
    if (target instanceof Node.Name n) {
      scope.vars.put(n.name(), value);
    } else if (target instanceof Node.Attr a) {
      Object owner = eval(a.target(), scope);
      if (!(owner instanceof Namespace ns)) {
        throw new TemplateException(line, "cannot assign attribute on non-namespace object");
      }
      ns.put(a.name(), value);
    } else if (target instanceof Node.ListLit l) {
      List<Object> values = Py.iterate(value, line);
      if (values.size() != l.items().size()) {
        throw new TemplateException(
            line,
            (values.size() > l.items().size() ? "too many" : "not enough")
                + " values to unpack (expected "
                + l.items().size()
                + ", got "
                + values.size()
                + ")");
      }
      for (int i = 0; i < values.size(); i++) {
        assign(l.items().get(i), values.get(i), scope, line);
      }
    } else {
      throw new TemplateException(line, "cannot assign to " + target);
    }
  }

  Object eval(Node node, Scope scope) {
    if (node instanceof Node.Const c) {
      return c.value();
    } else if (node instanceof Node.Name n) {
      return scope.get(n.name());
    } else if (node instanceof Node.ListLit l) {
      List<Object> items = new ArrayList<>();
      for (Node item : l.items()) {
        items.add(eval(item, scope));
      }
      return l.tuple() ? new Tuple(items) : items;
    } else if (node instanceof Node.DictLit d) {
      Map<Object, Object> map = new LinkedHashMap<>();
      for (int i = 0; i < d.keys().size(); i++) {
        map.put(eval(d.keys().get(i), scope), eval(d.values().get(i), scope));
      }
      return map;
    } else if (node instanceof Node.Attr a) {
      return builtins.getattr(eval(a.target(), scope), a.name(), a.line());
    } else if (node instanceof Node.Item i) {
      return item(eval(i.target(), scope), i.key(), scope, i.line());
    } else if (node instanceof Node.Call c) {
      return call(c, scope);
    } else if (node instanceof Node.Filter f) {
      return builtins.filter(f, eval(f.target(), scope), this, scope);
    } else if (node instanceof Node.Test t) {
      List<Object> args = new ArrayList<>();
      for (Node arg : t.args()) {
        args.add(eval(arg, scope));
      }
      return builtins.test(t.name(), eval(t.target(), scope), args, t.line()) != t.negated();
    } else if (node instanceof Node.Unary u) {
      return unary(u, eval(u.operand(), scope));
    } else if (node instanceof Node.Binary b) {
      return binary(b, scope);
    } else if (node instanceof Node.Compare c) {
      return compare(c, scope);
    } else if (node instanceof Node.CondExpr c) {
      if (Py.truthy(eval(c.test(), scope))) {
        return eval(c.then(), scope);
      }
      return c.orElse() == null
          ? new Undefined(
              "the inline if-expression on line "
                  + c.line()
                  + " evaluated to false and no else section was defined.")
          : eval(c.orElse(), scope);
    }
    throw new TemplateException(node.line(), "not an expression: " + node);
  }

  private Object item(Object target, Node key, Scope scope, int line) {
    if (key instanceof Node.Slice s) {
      return Builtins.slice(
          target,
          s.start() == null ? null : eval(s.start(), scope),
          s.stop() == null ? null : eval(s.stop(), scope),
          s.step() == null ? null : eval(s.step(), scope),
          line);
    }
    return builtins.getitem(target, eval(key, scope), line);
  }

  private Object call(Node.Call c, Scope scope) {
    Object target = eval(c.target(), scope);
    List<Object> args = new ArrayList<>();
    for (Node arg : c.args()) {
      args.add(eval(arg, scope));
    }
    Map<String, Object> kwargs = new LinkedHashMap<>();
    for (int i = 0; i < c.kwNames().size(); i++) {
      kwargs.put(c.kwNames().get(i), eval(c.kwValues().get(i), scope));
    }
    if (target instanceof Macro m) {
      return callMacro(m, args, kwargs, c.line());
    }
    return builtins.call(target, args, kwargs, c.line());
  }

  private Object callMacro(Macro m, List<Object> args, Map<String, Object> kwargs, int line) {
    Node.Macro node = m.node();
    Scope scope = new Scope(m.closure());
    int firstDefault = node.params().size() - node.defaults().size();
    if (args.size() > node.params().size()) {
      throw new TemplateException(
          line,
          "macro '"
              + node.name()
              + "' takes not more than "
              + node.params().size()
              + " argument(s)");
    }
    for (int i = 0; i < node.params().size(); i++) {
      String param = node.params().get(i);
      Object value;
      if (i < args.size()) {
        value = args.get(i);
      } else if (kwargs.containsKey(param)) {
        value = kwargs.remove(param);
      } else if (i >= firstDefault) {
        value = eval(node.defaults().get(i - firstDefault), scope);
      } else {
        value = Py.undefinedName(param);
      }
      scope.vars.put(param, value);
    }
    if (!kwargs.isEmpty()) {
      throw new TemplateException(
          line,
          "macro '"
              + node.name()
              + "' was invoked with unknown keyword argument '"
              + kwargs.keySet().iterator().next()
              + "'");
    }
    return capture(node.body(), scope);
  }

  private Object unary(Node.Unary u, Object v) {
    if (u.op().equals("not")) {
      return !Py.truthy(v);
    }
    if (v instanceof Undefined undefined) {
      throw undefined.error(u.line());
    }
    if (!Py.isNumber(v)) {
      throw new TemplateException(
          u.line(), "bad operand type for unary " + u.op() + ": " + Py.typeName(v));
    }
    if (u.op().equals("+")) {
      return v instanceof Boolean ? (Object) Py.toLong(v) : v;
    }
    return Py.isInt(v) ? (Object) (-Py.toLong(v)) : (Object) (-Py.toDouble(v));
  }

  private Object binary(Node.Binary b, Scope scope) {
    Object left = eval(b.left(), scope);
    switch (b.op()) {
      case "and" -> {
        return Py.truthy(left) ? eval(b.right(), scope) : left;
      }
      case "or" -> {
        return Py.truthy(left) ? left : eval(b.right(), scope);
      }
      default -> {}
    }
    Object right = eval(b.right(), scope);
    if (b.op().equals("~")) {
      return Py.str(left) + Py.str(right);
    }
    return Arithmetic.apply(b.op(), left, right, b.line());
  }

  private Object compare(Node.Compare c, Scope scope) {
    Object left = eval(c.first(), scope);
    for (int i = 0; i < c.ops().size(); i++) {
      Object right = eval(c.rest().get(i), scope);
      String op = c.ops().get(i);
      boolean holds =
          switch (op) {
            case "==" -> Py.eq(left, right);
            case "!=" -> !Py.eq(left, right);
            case "in" -> Py.contains(right, left, c.line());
            case "notin" -> !Py.contains(right, left, c.line());
            default -> {
              int order =
                  Py.compare(
                      undefinedChecked(left, c.line()),
                      undefinedChecked(right, c.line()),
                      op,
                      c.line());
              yield switch (op) {
                case "<" -> order < 0;
                case "<=" -> order <= 0;
                case ">" -> order > 0;
                default -> order >= 0;
              };
            }
          };
      if (!holds) {
        return false;
      }
      left = right;
    }
    return true;
  }

  static Object undefinedChecked(Object v, int line) {
    if (v instanceof Undefined u) {
      throw u.error(line);
    }
    return v;
  }
}
