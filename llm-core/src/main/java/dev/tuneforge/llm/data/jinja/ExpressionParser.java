package dev.tuneforge.llm.data.jinja;

import dev.tuneforge.llm.data.jinja.Lexer.Kind;
import dev.tuneforge.llm.data.jinja.Lexer.Token;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The expression half of the parser, over a token cursor: jinja2's grammar and operator precedence
 * (conditional expressions, or/and/not, comparisons, {@code + -}, {@code ~}, {@code * / // %},
 * {@code **}, unary signs, then postfix access, calls, filters and tests).
 */
class ExpressionParser {
  static final Set<String> COMPARE = Set.of("==", "!=", "<", "<=", ">", ">=");

  final List<Token> tokens;
  int at;

  ExpressionParser(List<Token> tokens) {
    this.tokens = tokens;
  }

  Token peek() {
    return tokens.get(at);
  }

  Token peek(int ahead) {
    return tokens.get(Math.min(at + ahead, tokens.size() - 1));
  }

  Token next() {
    return tokens.get(at++);
  }

  Token expect(Kind kind, String what) {
    Token t = next();
    if (t.kind() != kind) {
      throw new TemplateException(t.line(), "expected " + what + " but found '" + t.value() + "'");
    }
    return t;
  }

  void expectOp(String op) {
    Token t = next();
    if (!t.isOp(op)) {
      throw new TemplateException(t.line(), "expected '" + op + "' but found '" + t.value() + "'");
    }
  }

  void expectName(String name) {
    Token t = next();
    if (!t.isName(name)) {
      throw new TemplateException(
          t.line(), "expected '" + name + "' but found '" + t.value() + "'");
    }
  }

  boolean skipOp(String op) {
    if (peek().isOp(op)) {
      at++;
      return true;
    }
    return false;
  }

  String tagName() {
    return peek(1).value();
  }

  Node tuple(boolean withCondition) {
    return tuple(withCondition, Set.of());
  }

  /** An expression, or a tuple when commas separate several (as in {@code {{ a, b }}}). */
  Node tuple(boolean withCondition, Set<String> endNames) {
    int line = peek().line();
    List<Node> items = new ArrayList<>();
    boolean comma = false;
    while (true) {
      if (!items.isEmpty()) {
        if (!skipOp(",")) {
          break;
        }
        comma = true;
      }
      if (endsTuple(endNames)) {
        break;
      }
      items.add(expression(withCondition));
    }
    if (!comma && items.size() == 1) {
      return items.get(0);
    }
    if (items.isEmpty() && !comma) {
      throw new TemplateException(
          line, "expected an expression but found '" + peek().value() + "'");
    }
    return new Node.ListLit(line, items, true);
  }

  boolean endsTuple(Set<String> endNames) {
    Token t = peek();
    return t.kind() == Kind.VAR_END
        || t.kind() == Kind.BLOCK_END
        || t.kind() == Kind.EOF
        || t.isOp(")")
        || t.isOp("]")
        || t.isOp("}")
        || (t.kind() == Kind.NAME && endNames.contains(t.value()));
  }

  Node expression(boolean withCondition) {
    return withCondition ? condition() : or();
  }

  Node condition() {
    Node expr = or();
    while (peek().isName("if")) {
      int line = next().line();
      Node test = or();
      Node orElse = null;
      if (peek().isName("else")) {
        next();
        orElse = condition();
      }
      expr = new Node.CondExpr(line, test, expr, orElse);
    }
    return expr;
  }

  Node or() {
    Node left = and();
    while (peek().isName("or")) {
      int line = next().line();
      left = new Node.Binary(line, "or", left, and());
    }
    return left;
  }

  Node and() {
    Node left = not();
    while (peek().isName("and")) {
      int line = next().line();
      left = new Node.Binary(line, "and", left, not());
    }
    return left;
  }

  Node not() {
    if (peek().isName("not")) {
      int line = next().line();
      return new Node.Unary(line, "not", not());
    }
    return compare();
  }

  Node compare() {
    int line = peek().line();
    Node first = math1();
    List<String> ops = new ArrayList<>();
    List<Node> rest = new ArrayList<>();
    while (true) {
      Token t = peek();
      if (t.kind() == Kind.OP && COMPARE.contains(t.value())) {
        next();
        ops.add(t.value());
      } else if (t.isName("in")) {
        next();
        ops.add("in");
      } else if (t.isName("not") && peek(1).isName("in")) {
        at += 2;
        ops.add("notin");
      } else {
        break;
      }
      rest.add(math1());
    }
    return ops.isEmpty() ? first : new Node.Compare(line, first, ops, rest);
  }

  Node math1() {
    Node left = concat();
    while (peek().isOp("+") || peek().isOp("-")) {
      Token op = next();
      left = new Node.Binary(op.line(), op.value(), left, concat());
    }
    return left;
  }

  Node concat() {
    Node left = math2();
    while (peek().isOp("~")) {
      Token op = next();
      left = new Node.Binary(op.line(), "~", left, math2());
    }
    return left;
  }

  Node math2() {
    Node left = pow();
    while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
      Token op = next();
      left = new Node.Binary(op.line(), op.value(), left, pow());
    }
    return left;
  }

  Node pow() {
    Node left = unary(true);
    while (peek().isOp("**")) {
      Token op = next();
      left = new Node.Binary(op.line(), "**", left, unary(true));
    }
    return left;
  }

  Node unary(boolean withFilter) {
    Token t = peek();
    Node node;
    if (t.isOp("-") || t.isOp("+")) {
      next();
      node = new Node.Unary(t.line(), t.value(), unary(false));
    } else {
      node = postfix(primary());
    }
    return withFilter ? filterExpr(node) : node;
  }

  Node primary() {
    Token t = next();
    switch (t.kind()) {
      case NAME -> {
        return switch (t.value()) {
          case "true", "True" -> new Node.Const(t.line(), Boolean.TRUE);
          case "false", "False" -> new Node.Const(t.line(), Boolean.FALSE);
          case "none", "None" -> new Node.Const(t.line(), null);
          default -> new Node.Name(t.line(), t.value());
        };
      }
      case STRING -> {
        StringBuilder s = new StringBuilder(t.value());
        while (peek().kind() == Kind.STRING) {
          s.append(next().value());
        }
        return new Node.Const(t.line(), s.toString());
      }
      case INT -> {
        return new Node.Const(t.line(), parseInt(t.value()));
      }
      case FLOAT -> {
        return new Node.Const(t.line(), Double.parseDouble(t.value()));
      }
      case OP -> {
        switch (t.value()) {
          case "(" -> {
            if (skipOp(")")) {
              return new Node.ListLit(t.line(), List.of(), true);
            }
            Node inner = tuple(true);
            expectOp(")");
            return inner;
          }
          case "[" -> {
            List<Node> items = new ArrayList<>();
            while (!skipOp("]")) {
              if (!items.isEmpty()) {
                expectOp(",");
                if (skipOp("]")) {
                  break;
                }
              }
              items.add(expression(true));
            }
            return new Node.ListLit(t.line(), items, false);
          }
          case "{" -> {
            List<Node> keys = new ArrayList<>();
            List<Node> values = new ArrayList<>();
            while (!skipOp("}")) {
              if (!keys.isEmpty()) {
                expectOp(",");
                if (skipOp("}")) {
                  break;
                }
              }
              keys.add(expression(true));
              expectOp(":");
              values.add(expression(true));
            }
            return new Node.DictLit(t.line(), keys, values);
          }
          default -> {}
        }
      }
      default -> {}
    }
    throw new TemplateException(t.line(), "unexpected '" + t.value() + "'");
  }

  static Long parseInt(String text) {
    String lower = text.toLowerCase();
    if (lower.startsWith("0x")) {
      return Long.parseLong(text.substring(2), 16);
    } else if (lower.startsWith("0o")) {
      return Long.parseLong(text.substring(2), 8);
    } else if (lower.startsWith("0b")) {
      return Long.parseLong(text.substring(2), 2);
    }
    return Long.parseLong(text);
  }

  Node postfix(Node node) {
    while (true) {
      Token t = peek();
      if (t.isOp(".")) {
        next();
        Token name = next();
        if (name.kind() == Kind.NAME) {
          node = new Node.Attr(t.line(), node, name.value());
        } else if (name.kind() == Kind.INT) {
          node = new Node.Item(t.line(), node, new Node.Const(t.line(), parseInt(name.value())));
        } else {
          throw new TemplateException(t.line(), "expected an attribute name after '.'");
        }
      } else if (t.isOp("[")) {
        next();
        node = new Node.Item(t.line(), node, subscript());
      } else if (t.isOp("(")) {
        node = call(node);
      } else {
        return node;
      }
    }
  }

  Node subscript() {
    List<Node> items = new ArrayList<>();
    int line = peek().line();
    do {
      if (peek().isOp("]")) {
        break;
      }
      items.add(sliceOrExpr());
    } while (skipOp(","));
    expectOp("]");
    return items.size() == 1 ? items.get(0) : new Node.ListLit(line, items, true);
  }

  Node sliceOrExpr() {
    int line = peek().line();
    Node start = null;
    if (!peek().isOp(":")) {
      start = expression(true);
      if (!peek().isOp(":")) {
        return start;
      }
    }
    next(); // :
    Node stop = null;
    Node step = null;
    if (!peek().isOp("]") && !peek().isOp(",") && !peek().isOp(":")) {
      stop = expression(true);
    }
    if (skipOp(":") && !peek().isOp("]") && !peek().isOp(",")) {
      step = expression(true);
    }
    return new Node.Slice(line, start, stop, step);
  }

  Node.Call call(Node target) {
    int line = next().line(); // (
    List<Node> args = new ArrayList<>();
    List<String> kwNames = new ArrayList<>();
    List<Node> kwValues = new ArrayList<>();
    callArgs(args, kwNames, kwValues);
    return new Node.Call(line, target, args, kwNames, kwValues);
  }

  /** Arguments after '(' through ')'. */
  void callArgs(List<Node> args, List<String> kwNames, List<Node> kwValues) {
    boolean first = true;
    while (!skipOp(")")) {
      if (!first) {
        expectOp(",");
        if (skipOp(")")) {
          return;
        }
      }
      first = false;
      if (peek().kind() == Kind.NAME && peek(1).isOp("=")) {
        kwNames.add(next().value());
        next();
        kwValues.add(expression(true));
      } else {
        if (!kwNames.isEmpty()) {
          throw new TemplateException(
              peek().line(), "positional argument follows keyword argument");
        }
        args.add(expression(true));
      }
    }
  }

  Node filterExpr(Node node) {
    while (true) {
      Token t = peek();
      if (t.isOp("|")) {
        next();
        node = filter(node);
      } else if (t.isName("is")) {
        next();
        node = test(node);
      } else if (t.isOp("(")) {
        node = call(node);
      } else {
        return node;
      }
    }
  }

  Node.Filter filter(Node target) {
    Token name = expect(Kind.NAME, "a filter name");
    String full = name.value();
    while (peek().isOp(".")) {
      next();
      full += "." + expect(Kind.NAME, "a filter name").value();
    }
    Builtins.checkFilter(full, name.line());
    List<Node> args = new ArrayList<>();
    List<String> kwNames = new ArrayList<>();
    List<Node> kwValues = new ArrayList<>();
    if (peek().isOp("(")) {
      next();
      callArgs(args, kwNames, kwValues);
    }
    return new Node.Filter(name.line(), target, full, args, kwNames, kwValues);
  }

  Node test(Node target) {
    boolean negated = false;
    if (peek().isName("not")) {
      next();
      negated = true;
    }
    Token name = expect(Kind.NAME, "a test name");
    String full = name.value();
    while (peek().isOp(".")) {
      next();
      full += "." + expect(Kind.NAME, "a test name").value();
    }
    Builtins.checkTest(full, name.line());
    List<Node> args = new ArrayList<>();
    Token t = peek();
    if (t.isOp("(")) {
      next();
      List<String> kwNames = new ArrayList<>();
      callArgs(args, kwNames, new ArrayList<>());
      if (!kwNames.isEmpty()) {
        throw new TemplateException(t.line(), "tests take no keyword arguments");
      }
    } else if ((t.kind() == Kind.NAME
            || t.kind() == Kind.STRING
            || t.kind() == Kind.INT
            || t.kind() == Kind.FLOAT
            || t.isOp("[")
            || t.isOp("{"))
        && !t.isName("else")
        && !t.isName("or")
        && !t.isName("and")) {
      if (t.isName("is")) {
        throw new TemplateException(t.line(), "you cannot chain multiple tests with is");
      }
      args.add(postfix(primary()));
    }
    return new Node.Test(name.line(), target, full, args, negated);
  }
}
