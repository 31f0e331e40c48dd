package dev.tuneforge.data.prepare;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads records from JSONL (one object per line), a JSON array of objects, or CSV with a header row
 * (every cell a string field; a cell holding a JSON list, such as {@code messages}, is parsed). The
 * layout comes from the file name ({@code .jsonl}, {@code .json}, {@code .csv}) or, failing that,
 * from the first character. Problems name the line; blank JSONL lines are skipped.
 */
public final class InputReader {
  /** How a file is laid out. */
  public enum Layout {
    JSONL,
    JSON_ARRAY,
    CSV
  }

  /** The records that parsed and the problems of those that did not. */
  public record Rows(Layout layout, List<Row> rows, List<Problem> problems) {}

  private InputReader() {}

  public static Rows read(String file, String name, byte[] content) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(content))
              .toString();
    } catch (CharacterCodingException e) {
      return new Rows(
          Layout.JSONL, List.of(), List.of(new Problem(file, 0, "is not valid UTF-8 text")));
    }
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    Layout layout = layout(name, text);
    return switch (layout) {
      case JSONL -> jsonl(file, text);
      case JSON_ARRAY -> jsonArray(file, text);
      case CSV -> csv(file, text);
    };
  }

  static Layout layout(String name, String text) {
    String lower = name == null ? "" : name.toLowerCase(java.util.Locale.ROOT);
    if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) {
      return Layout.JSONL;
    }
    if (lower.endsWith(".csv")) {
      return Layout.CSV;
    }
    String start = text.stripLeading();
    if (lower.endsWith(".json") || start.startsWith("[")) {
      return start.startsWith("[") ? Layout.JSON_ARRAY : Layout.JSONL;
    }
    return Layout.JSONL;
  }

  private static Rows jsonl(String file, String text) {
    List<Row> rows = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      try {
        JsonElement element = JsonParser.parseString(line);
        if (element.isJsonObject()) {
          rows.add(new Row(i + 1, element.getAsJsonObject()));
        } else {
          problems.add(
              new Problem(file, i + 1, "expected a JSON object but found " + kindOf(element)));
        }
      } catch (JsonParseException e) {
        problems.add(new Problem(file, i + 1, "is not valid JSON (" + reason(e) + ")"));
      }
    }
    if (rows.isEmpty() && problems.isEmpty()) {
      problems.add(new Problem(file, 0, "is empty: no records"));
    }
    return new Rows(Layout.JSONL, rows, problems);
  }

  private static Rows jsonArray(String file, String text) {
    List<Row> rows = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    JsonArray array;
    try {
      JsonElement element = JsonParser.parseString(text);
      if (!element.isJsonArray()) {
        return new Rows(
            Layout.JSON_ARRAY,
            rows,
            List.of(new Problem(file, 0, "expected a JSON array of objects")));
      }
      array = element.getAsJsonArray();
    } catch (JsonParseException e) {
      return new Rows(
          Layout.JSON_ARRAY,
          rows,
          List.of(new Problem(file, 0, "is not a valid JSON array (" + reason(e) + ")")));
    }
    for (int i = 0; i < array.size(); i++) {
      JsonElement element = array.get(i);
      if (element.isJsonObject()) {
        rows.add(new Row(i + 1, element.getAsJsonObject()));
      } else {
        problems.add(
            new Problem(file, i + 1, "expected a JSON object but found " + kindOf(element)));
      }
    }
    if (rows.isEmpty() && problems.isEmpty()) {
      problems.add(new Problem(file, 0, "is empty: no records"));
    }
    return new Rows(Layout.JSON_ARRAY, rows, problems);
  }

  private static Rows csv(String file, String text) {
    List<Row> rows = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    CSVFormat format = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get();
    try (CSVParser parser = CSVParser.parse(new StringReader(text), format)) {
      List<String> header = parser.getHeaderNames();
      for (CSVRecord record : parser) {
        int line = (int) record.getRecordNumber();
        if (record.size() != header.size()) {
          problems.add(
              new Problem(
                  file,
                  line,
                  "has " + record.size() + " cells but the header has " + header.size()));
          continue;
        }
        JsonObject object = new JsonObject();
        for (int c = 0; c < header.size(); c++) {
          String cell = record.get(c);
          String trimmed = cell.strip();
          if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
            try {
              object.add(header.get(c), JsonParser.parseString(trimmed));
              continue;
            } catch (JsonParseException e) {
              // a plain string that happens to start with a bracket
            }
          }
          object.addProperty(header.get(c), cell);
        }
        rows.add(new Row(line, object));
      }
    } catch (IOException | IllegalArgumentException | IllegalStateException e) {
      problems.add(new Problem(file, 0, "is not valid CSV (" + e.getMessage() + ")"));
    }
    if (rows.isEmpty() && problems.isEmpty()) {
      problems.add(new Problem(file, 0, "is empty: no records"));
    }
    return new Rows(Layout.CSV, rows, problems);
  }

  static String kindOf(JsonElement element) {
    if (element.isJsonArray()) {
      return "an array";
    }
    if (element.isJsonNull()) {
      return "null";
    }
    if (element.isJsonPrimitive()) {
      return element.getAsJsonPrimitive().isString()
          ? "a string"
          : element.getAsJsonPrimitive().isNumber() ? "a number" : "a boolean";
    }
    return "an object";
  }

  private static String reason(JsonParseException e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int see = message.indexOf("\nSee https://");
    return see >= 0 ? message.substring(0, see) : message;
  }
}
