package dev.tuneforge.llm.data.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a template into data and tag tokens exactly as jinja2's lexer does with {@code
 * trim_blocks} and {@code lstrip_blocks}: {@code -} strips all whitespace on its side of a tag,
 * {@code +} keeps it, a block or comment tag eats the newline after it, and spaces from a line's
 * start to a block or comment tag are dropped. Newlines are normalised to {@code \n} and one
 * trailing newline is removed ({@code keep_trailing_newline=False}).
 */
final class Lexer {
  enum Kind {
    DATA,
    VAR_BEGIN,
    VAR_END,
    BLOCK_BEGIN,
    BLOCK_END,
    NAME,
    STRING,
    INT,
    FLOAT,
    OP,
    EOF
  }

  record Token(Kind kind, String value, int line) {
    boolean is(Kind k, String v) {
      return kind == k && value.equals(v);
    }

    boolean isName(String v) {
      return is(Kind.NAME, v);
    }

    boolean isOp(String v) {
      return is(Kind.OP, v);
    }
  }

  private static final Pattern FLOAT =
      Pattern.compile(
          "(?<!\\.)(\\d+_)*\\d+((\\.(\\d+_)*\\d+)?[eE][+\\-]?(\\d+_)*\\d+|\\.(\\d+_)*\\d+)");
  private static final Pattern INT =
      Pattern.compile(
          "(0[bB](_?[01])+|0[oO](_?[0-7])+|0[xX](_?[\\da-fA-F])+|[1-9](_?\\d)*|0(_?0)*)");
  private static final Pattern NAME = Pattern.compile("[\\p{L}_][\\p{L}\\p{N}_]*");
  private static final Pattern STRING =
      Pattern.compile(
          "('([^'\\\\]*(?:\\\\.[^'\\\\]*)*)'|\"([^\"\\\\]*(?:\\\\.[^\"\\\\]*)*)\")",
          Pattern.DOTALL);
  private static final Pattern RAW_BEGIN = Pattern.compile("\\s*raw\\s*(-%}\\s*|%})");
  private static final Pattern RAW_END =
      Pattern.compile("\\{%([-+]?)\\s*endraw\\s*(\\+%}|-%}\\s*|%}\\n?)", Pattern.DOTALL);
  private static final String[] OPERATORS = {
    "//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
    ">", "<", "=", ".", ":", "|", ",", ";"
  };

  private final String source;
  private final List<Token> tokens = new ArrayList<>();
  private int pos;
  private int line = 1;
  private boolean lineStarting = true;

  private Lexer(String source) {
    String normalized = source.replace("\r\n", "\n").replace('\r', '\n');
    if (normalized.endsWith("\n")) {
      normalized = normalized.substring(0, normalized.length() - 1);
    }
    this.source = normalized;
  }

  static List<Token> lex(String source) {
    Lexer lexer = new Lexer(source);
    lexer.run();
    return lexer.tokens;
  }

  private void run() {
    while (pos < source.length()) {
      int start = nextTag(pos);
      if (start < 0) {
        data(source.substring(pos));
        pos = source.length();
        break;
      }
      char kind = source.charAt(start + 1);
      int p = start + 2;
      char sign = p < source.length() ? source.charAt(p) : 0;
      if (sign == '-' || sign == '+') {
        p++;
      } else {
        sign = 0;
      }
      String text = source.substring(pos, start);
      int textNewlines = count(text, '\n');
      Matcher raw = kind == '%' ? RAW_BEGIN.matcher(source).region(p, source.length()) : null;
      boolean isRaw = raw != null && raw.lookingAt();
      if (sign == '-') {
        text = Py.rstrip(text, null);
      } else if (sign != '+' && kind != '{') {
        int lineStart = text.lastIndexOf('\n') + 1;
        if ((lineStart > 0 || lineStarting)
            && lineStart < text.length()
            && Py.isWhitespace(text.substring(lineStart))) {
          text = text.substring(0, lineStart);
        }
      }
      data(text);
      line += textNewlines - count(text, '\n');
      if (isRaw) {
        rawBlock(raw.end());
      } else if (kind == '#') {
        comment(p);
      } else {
        tag(kind == '{', p);
      }
    }
    tokens.add(new Token(Kind.EOF, "", line));
  }

  private int nextTag(int from) {
    int i = from;
    while ((i = source.indexOf('{', i)) >= 0 && i + 1 < source.length()) {
      char c = source.charAt(i + 1);
      if (c == '{' || c == '%' || c == '#') {
        return i;
      }
      i++;
    }
    return -1;
  }

  private void data(String text) {
    if (!text.isEmpty()) {
      tokens.add(new Token(Kind.DATA, text, line));
      line += count(text, '\n');
    }
  }

  private void rawBlock(int from) {
    Matcher end = RAW_END.matcher(source).region(from, source.length());
    if (!end.find()) {
      throw new TemplateException(line, "missing end of raw directive");
    }
    String text = source.substring(from, end.start());
    if (end.group(1).equals("-")) {
      text = Py.rstrip(text, null);
    }
    line += count(source.substring(from, end.start()), '\n') - count(text, '\n');
    data(text);
    line += count(end.group(), '\n');
    pos = end.end();
    lineStarting = source.charAt(pos - 1) == '\n';
  }

  private void comment(int from) {
    int end = source.indexOf("#}", from);
    if (end < 0) {
      throw new TemplateException(line, "missing end of comment tag");
    }
    char before = end > from ? source.charAt(end - 1) : 0;
    int after = end + 2;
    if (before == '-') {
      after = skipWhitespace(after);
    } else if (before != '+' && after < source.length() && source.charAt(after) == '\n') {
      after++;
    }
    line += count(source.substring(from, after), '\n');
    pos = after;
    lineStarting = source.charAt(pos - 1) == '\n';
  }

  private int skipWhitespace(int from) {
    int i = from;
    while (i < source.length() && Py.isSpace(source.charAt(i))) {
      i++;
    }
    return i;
  }

  private void tag(boolean variable, int from) {
    tokens.add(new Token(variable ? Kind.VAR_BEGIN : Kind.BLOCK_BEGIN, "", line));
    List<String> balance = new ArrayList<>();
    int i = from;
    while (true) {
      int ws = skipWhitespace(i);
      line += count(source.substring(i, ws), '\n');
      i = ws;
      if (i >= source.length()) {
        throw new TemplateException(
            line, "unexpected end of template, expected '" + (variable ? "}}" : "%}") + "'");
      }
      if (balance.isEmpty()) {
        int end = tagEnd(variable, i);
        if (end >= 0) {
          tokens.add(new Token(variable ? Kind.VAR_END : Kind.BLOCK_END, "", line));
          line += count(source.substring(i, end), '\n');
          pos = end;
          lineStarting = source.charAt(end - 1) == '\n';
          return;
        }
      }
      i = token(i, balance);
    }
  }

  /** The end of a closing delimiter at {@code i} with its whitespace rules, or -1. */
  private int tagEnd(boolean variable, int i) {
    String close = variable ? "}}" : "%}";
    if (source.startsWith("-" + close, i)) {
      return skipWhitespace(i + 3);
    }
    if (!variable && source.startsWith("+" + close, i)) {
      return i + 3;
    }
    if (source.startsWith(close, i)) {
      int end = i + 2;
      return !variable && end < source.length() && source.charAt(end) == '\n' ? end + 1 : end;
    }
    return -1;
  }

  private int token(int i, List<String> balance) {
    Matcher m;
    if ((m = FLOAT.matcher(source).region(i, source.length())).lookingAt()) {
      tokens.add(new Token(Kind.FLOAT, m.group().replace("_", ""), line));
      return m.end();
    }
    if ((m = INT.matcher(source).region(i, source.length())).lookingAt()) {
      tokens.add(new Token(Kind.INT, m.group().replace("_", ""), line));
      return m.end();
    }
    if ((m = NAME.matcher(source).region(i, source.length())).lookingAt()) {
      tokens.add(new Token(Kind.NAME, m.group(), line));
      return m.end();
    }
    if ((m = STRING.matcher(source).region(i, source.length())).lookingAt()) {
      String body = m.group().substring(1, m.group().length() - 1);
      tokens.add(new Token(Kind.STRING, unescape(body.replace("\r\n", "\n")), line));
      line += count(m.group(), '\n');
      return m.end();
    }
    for (String op : OPERATORS) {
      if (source.startsWith(op, i)) {
        switch (op) {
          case "{" -> balance.add("}");
          case "(" -> balance.add(")");
          case "[" -> balance.add("]");
          case "}", ")", "]" -> {
            if (balance.isEmpty()) {
              throw new TemplateException(line, "unexpected '" + op + "'");
            }
            String expected = balance.remove(balance.size() - 1);
            if (!expected.equals(op)) {
              throw new TemplateException(
                  line, "unexpected '" + op + "', expected '" + expected + "'");
            }
          }
          default -> {}
        }
        tokens.add(new Token(Kind.OP, op, line));
        return i + op.length();
      }
    }
    throw new TemplateException(line, "unexpected char '" + source.charAt(i) + "'");
  }

  /** Python's unicode-escape decoding of a string literal's body, as jinja2 applies it. */
  static String unescape(String body) {
    StringBuilder out = new StringBuilder(body.length());
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c != '\\' || i + 1 >= body.length()) {
        out.append(c);
        continue;
      }
      char e = body.charAt(++i);
      switch (e) {
        case '\n' -> {}
        case '\\' -> out.append('\\');
        case '\'' -> out.append('\'');
        case '"' -> out.append('"');
        case 'a' -> out.append('\u0007');
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'v' -> out.append('\u000B');
        case 'x', 'u', 'U' -> {
          int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + digits > body.length() - 1) {
            throw new TemplateException(0, "truncated \\" + e + " escape in a string literal");
          }
          out.appendCodePoint(Integer.parseInt(body.substring(i + 1, i + 1 + digits), 16));
          i += digits;
        }
        default -> {
          if (e >= '0' && e <= '7') {
            int end = i;
            while (end < body.length()
                && end < i + 3
                && body.charAt(end) >= '0'
                && body.charAt(end) <= '7') {
              end++;
            }
            out.append((char) Integer.parseInt(body.substring(i, end), 8));
            i = end - 1;
          } else {
            out.append('\\').append(e);
          }
        }
      }
    }
    return out.toString();
  }

  private static int count(String text, char c) {
    int n = 0;
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) == c) {
        n++;
      }
    }
    return n;
  }
}
