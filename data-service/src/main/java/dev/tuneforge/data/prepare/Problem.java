package dev.tuneforge.data.prepare;

/**
 * One thing wrong with an input record, e.g. {@code line 17: "output" is missing}.
 *
 * @param line 1-based line (JSONL), element (JSON array) or data row (CSV); 0 for the whole file
 * @param file which input it is in ("training_file", "validation_file")
 */
public record Problem(String file, int line, String message) {
  @Override
  public String toString() {
    String where = line > 0 ? "line " + line + ": " : "";
    return (file == null || file.isEmpty() ? "" : file + " ") + where + message;
  }
}
