package dev.tuneforge.llm.data.jinja;

import dev.tuneforge.llm.data.jinja.Lexer.Kind;
import dev.tuneforge.llm.data.jinja.Lexer.Token;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Builds {@link Node}s from a template's tokens: the statements (if, for, set, macro, filter,
 * generation, break, continue) here, expressions in {@link ExpressionParser}.
 */
final class Parser extends ExpressionParser {
  private Parser(List<Token> tokens) {
    super(tokens);
  }

  static List<Node> parse(String source) {
    Parser parser = new Parser(Lexer.lex(source));
    List<Node> body = parser.body(Set.of());
    if (parser.peek().kind() != Kind.EOF) {
      throw new TemplateException(
          parser.peek().line(), "unexpected '" + parser.tagName() + "' tag outside any block");
    }
    return body;
  }

  /** Statements until a block tag named in {@code ends} (left unconsumed) or the end. */
  private List<Node> body(Set<String> ends) {
    List<Node> nodes = new ArrayList<>();
    while (true) {
      Token t = peek();
      switch (t.kind()) {
        case EOF -> {
          if (!ends.isEmpty()) {
            throw new TemplateException(
                t.line(), "unexpected end of template, expected one of " + ends);
          }
          return nodes;
        }
        case DATA -> nodes.add(new Node.Text(next().line(), t.value()));
        case VAR_BEGIN -> {
          next();
          nodes.add(new Node.Print(t.line(), tuple(true)));
          expect(Kind.VAR_END, "'}}'");
        }
        case BLOCK_BEGIN -> {
          if (ends.contains(tagName())) {
            return nodes;
          }
          next();
          nodes.add(statement());
        }
        default -> throw new TemplateException(t.line(), "unexpected '" + t.value() + "'");
      }
    }
  }

  private Node statement() {
    Token name = expect(Kind.NAME, "a statement name");
    int line = name.line();
    return switch (name.value()) {
      case "if" -> ifStatement(line);
      case "for" -> forStatement(line);
      case "set" -> setStatement(line);
      case "macro" -> macro(line);
      case "filter" -> filterBlock(line);
      case "generation" -> {
        expect(Kind.BLOCK_END, "'%}'");
        List<Node> body = body(Set.of("endgeneration"));
        endTag("endgeneration");
        yield new Node.Generation(line, body);
      }
      case "break" -> {
        expect(Kind.BLOCK_END, "'%}'");
        yield new Node.Break(line);
      }
      case "continue" -> {
        expect(Kind.BLOCK_END, "'%}'");
        yield new Node.Continue(line);
      }
      default ->
          throw new TemplateException(
              line,
              "unknown or unsupported tag '"
                  + name.value()
                  + "' (chat templates may use if, for, set, macro, filter, generation, break,"
                  + " continue, raw)");
    };
  }

  private void endTag(String name) {
    expect(Kind.BLOCK_BEGIN, "'{%'");
    expectName(name);
    expect(Kind.BLOCK_END, "'%}'");
  }

  private Node ifStatement(int line) {
    Node test = tuple(true);
    expect(Kind.BLOCK_END, "'%}'");
    List<Node> body = body(Set.of("elif", "else", "endif"));
    next(); // {%
    Token which = next();
    List<Node> orElse = List.of();
    switch (which.value()) {
      case "elif" -> orElse = List.of(ifStatement(which.line()));
      case "else" -> {
        expect(Kind.BLOCK_END, "'%}'");
        orElse = body(Set.of("endif"));
        endTag("endif");
      }
      default -> expect(Kind.BLOCK_END, "'%}'");
    }
    return new Node.If(line, test, body, orElse);
  }

  private Node forStatement(int line) {
    Node target = assignTarget(Set.of("in"));
    expectName("in");
    Node iter = tuple(false, Set.of("recursive", "if"));
    Node filter = null;
    if (peek().isName("if")) {
      next();
      filter = expression(true);
    }
    if (peek().isName("recursive")) {
      throw new TemplateException(peek().line(), "recursive for loops are not supported");
    }
    expect(Kind.BLOCK_END, "'%}'");
    List<Node> body = body(Set.of("else", "endfor"));
    next();
    Token which = next();
    List<Node> orElse = List.of();
    expect(Kind.BLOCK_END, "'%}'");
    if (which.value().equals("else")) {
      orElse = body(Set.of("endfor"));
      endTag("endfor");
    }
    return new Node.For(line, target, iter, filter, body, orElse);
  }

  private Node setStatement(int line) {
    Node target = assignTarget(Set.of());
    if (skipOp("=")) {
      Node value = tuple(true);
      expect(Kind.BLOCK_END, "'%}'");
      return new Node.Set(line, target, value);
    }
    List<Node.Filter> filters = new ArrayList<>();
    while (skipOp("|")) {
      filters.add(filter(null));
    }
    expect(Kind.BLOCK_END, "'%}'");
    List<Node> body = body(Set.of("endset"));
    endTag("endset");
    return new Node.SetBlock(line, target, body, filters);
  }

  private Node macro(int line) {
    String name = expect(Kind.NAME, "a macro name").value();
    expectOp("(");
    List<String> params = new ArrayList<>();
    List<Node> defaults = new ArrayList<>();
    while (!skipOp(")")) {
      if (!params.isEmpty()) {
        expectOp(",");
        if (skipOp(")")) {
          break;
        }
      }
      params.add(expect(Kind.NAME, "a parameter name").value());
      if (skipOp("=")) {
        defaults.add(expression(true));
      } else if (!defaults.isEmpty()) {
        throw new TemplateException(line, "non-default argument follows default argument");
      }
    }
    expect(Kind.BLOCK_END, "'%}'");
    List<Node> body = body(Set.of("endmacro"));
    endTag("endmacro");
    return new Node.Macro(line, name, params, defaults, body);
  }

  private Node filterBlock(int line) {
    List<Node.Filter> filters = new ArrayList<>();
    do {
      filters.add(filter(null));
    } while (skipOp("|"));
    expect(Kind.BLOCK_END, "'%}'");
    List<Node> body = body(Set.of("endfilter"));
    endTag("endfilter");
    return new Node.FilterBlock(line, filters, body);
  }

  /** A name, {@code ns.attr}, or a tuple of names, as assigned by set and for. */
  private Node assignTarget(Set<String> endNames) {
    List<Node> items = new ArrayList<>();
    boolean tuple = false;
    while (true) {
      Token name = expect(Kind.NAME, "a variable name");
      Node target = new Node.Name(name.line(), name.value());
      if (peek().isOp(".")) {
        next();
        target = new Node.Attr(name.line(), target, expect(Kind.NAME, "an attribute").value());
      }
      items.add(target);
      if (!peek().isOp(",")) {
        break;
      }
      next();
      tuple = true;
      if (peek().kind() != Kind.NAME || endNames.contains(peek().value())) {
        break;
      }
    }
    return tuple ? new Node.ListLit(items.get(0).line(), items, true) : items.get(0);
  }
}
