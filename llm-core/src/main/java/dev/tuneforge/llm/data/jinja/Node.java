package dev.tuneforge.llm.data.jinja;

import java.util.List;

/** The parsed template: statements and expressions, each with its template line. */
sealed interface Node {
  int line();

  // ---- statements
  record Output(int line, List<Node> parts) implements Node {}

  record Text(int line, String text) implements Node {}

  record Print(int line, Node expr) implements Node {}

  record If(int line, Node test, List<Node> body, List<Node> orElse) implements Node {}

  record For(int line, Node target, Node iter, Node filter, List<Node> body, List<Node> orElse)
      implements Node {}

  record Set(int line, Node target, Node value) implements Node {}

  record SetBlock(int line, Node target, List<Node> body, List<Filter> filters) implements Node {}

  record Macro(int line, String name, List<String> params, List<Node> defaults, List<Node> body)
      implements Node {}

  record FilterBlock(int line, List<Filter> filters, List<Node> body) implements Node {}

  record Generation(int line, List<Node> body) implements Node {}

  record Break(int line) implements Node {}

  record Continue(int line) implements Node {}

  // ---- expressions
  record Const(int line, Object value) implements Node {}

  record Name(int line, String name) implements Node {}

  record ListLit(int line, List<Node> items, boolean tuple) implements Node {}

  record DictLit(int line, List<Node> keys, List<Node> values) implements Node {}

  record Attr(int line, Node target, String name) implements Node {}

  record Item(int line, Node target, Node key) implements Node {}

  record Slice(int line, Node start, Node stop, Node step) implements Node {}

  record Call(int line, Node target, List<Node> args, List<String> kwNames, List<Node> kwValues)
      implements Node {}

  record Filter(
      int line,
      Node target,
      String name,
      List<Node> args,
      List<String> kwNames,
      List<Node> kwValues)
      implements Node {}

  record Test(int line, Node target, String name, List<Node> args, boolean negated)
      implements Node {}

  record Unary(int line, String op, Node operand) implements Node {}

  record Binary(int line, String op, Node left, Node right) implements Node {}

  record Compare(int line, Node first, List<String> ops, List<Node> rest) implements Node {}

  record CondExpr(int line, Node test, Node then, Node orElse) implements Node {}
}
