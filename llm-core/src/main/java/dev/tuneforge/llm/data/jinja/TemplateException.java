package dev.tuneforge.llm.data.jinja;

/** A template that does not parse or fails while rendering, with the template line. */
public class TemplateException extends IllegalArgumentException {
  private final int line;

  public TemplateException(int line, String message) {
    super(line > 0 ? "line " + line + ": " + message : message);
    this.line = line;
  }

  /** The 1-based template line, or 0 when unknown. */
  public int line() {
    return line;
  }
}
