package dev.tuneforge.llm.data.jinja;

import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A parsed Jinja2 template, rendered as transformers renders chat templates: jinja2's {@code
 * ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)} with loop controls, its
 * {@code tojson}, {@code raise_exception} and {@code strftime_now}. Values passed to {@link
 * #render} are data: text inside them is never parsed as template code.
 */
public final class Template {
  /** The text and the character spans of {@code {% generation %}} blocks in it. */
  public record Rendered(String text, List<int[]> generationSpans) {}

  private final List<Node> body;
  private final Supplier<ZonedDateTime> clock;

  private Template(List<Node> body, Supplier<ZonedDateTime> clock) {
    this.body = body;
    this.clock = clock;
  }

  /** Parses {@code source}; a syntax error names the template line. */
  public static Template parse(String source) {
    return parse(source, ZonedDateTime::now);
  }

  /** As {@link #parse(String)}, with the clock {@code strftime_now} reads. */
  public static Template parse(String source, Supplier<ZonedDateTime> clock) {
    return new Template(Parser.parse(source), clock);
  }

  /**
   * Renders with {@code variables} (Java String, Boolean, Integer/Long, Float/Double, List, Map and
   * null become Python str, bool, int, float, list, dict and None).
   */
  public Rendered render(Map<String, ?> variables) {
    Builtins builtins = new Builtins(clock);
    Renderer.Scope globals = new Renderer.Scope(null);
    globals.vars.putAll(Builtins.globals());
    Renderer.Scope top = new Renderer.Scope(globals);
    variables.forEach((k, v) -> top.vars.put(k, toPython(v)));
    StringBuilder out = new StringBuilder();
    List<int[]> spans = new ArrayList<>();
    new Renderer(out, spans, builtins).run(body, top);
    return new Rendered(out.toString(), spans);
  }

  /** Whether a raise_exception(...) call caused {@code e}, and its message if so. */
  public static String raisedMessage(TemplateException e) {
    return e instanceof Builtins.RaisedException r ? r.raised : null;
  }

  static Object toPython(Object v) {
    if (v == null
        || v instanceof String
        || v instanceof Boolean
        || v instanceof Long
        || v instanceof Double) {
      return v;
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Float f) {
      return f.doubleValue();
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      list.forEach(x -> out.add(toPython(x)));
      return out;
    }
    if (v instanceof Map<?, ?> map) {
      Map<Object, Object> out = new java.util.LinkedHashMap<>();
      map.forEach((k, x) -> out.put(toPython(k), toPython(x)));
      return out;
    }
    if (v instanceof CharSequence s) {
      return s.toString();
    }
    throw new IllegalArgumentException(
        "a template value must be JSON-like, not " + v.getClass().getName());
  }
}
