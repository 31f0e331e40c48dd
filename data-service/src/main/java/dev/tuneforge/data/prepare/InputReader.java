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
    int bom = bomLength(content);
    if (layout(name, firstChars(content, bom)) == Layout.JSONL) {
      // Line by line from the bytes: no copy of the whole file as one String or as an array of
      // lines beside the records.
      return jsonl(file, content, bom);
    }
    String text;
    try {
      text = decoder().decode(ByteBuffer.wrap(content, bom, content.length - bom)).toString();
    } catch (CharacterCodingException e) {
      return new Rows(
          Layout.JSONL, List.of(), List.of(new Problem(file, 0, "is not valid UTF-8 text")));
    }
    return layout(name, text) == Layout.CSV ? csv(file, text) : jsonArray(file, text);
  }

  /**
   * The first value {@code test} finds in the records, in order. JSONL is read only as far as the
   * first record that gives one (lines that do not parse are passed over); an array or CSV is read
   * whole.
   */
  public static <T> java.util.Optional<T> first(
      String file,
      String name,
      byte[] content,
      java.util.function.Function<JsonObject, java.util.Optional<T>> test) {
    int bom = bomLength(content);
    if (layout(name, firstChars(content, bom)) != Layout.JSONL) {
      return read(file, name, content).rows().stream()
          .map(row -> test.apply(row.record()))
          .flatMap(java.util.Optional::stream)
          .findFirst();
    }
    try (java.io.BufferedReader lines =
        new java.io.BufferedReader(
            new java.io.InputStreamReader(
                new java.io.ByteArrayInputStream(content, bom, content.length - bom), decoder()))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        try {
          JsonElement element = JsonParser.parseString(line.strip());
          if (element.isJsonObject()) {
            java.util.Optional<T> found = test.apply(element.getAsJsonObject());
            if (found.isPresent()) {
              return found;
            }
          }
        } catch (JsonParseException e) {
          // the preparation names it with its line
        }
      }
    } catch (IOException e) {
      return java.util.Optional.empty(); // not UTF-8: the preparation names the line
    }
    return java.util.Optional.empty();
  }

  /** 3 when the content starts with a UTF-8 byte-order mark, else 0. */
  private static int bomLength(byte[] content) {
    return content.length >= 3
            && (content[0] & 0xff) == 0xEF
            && (content[1] & 0xff) == 0xBB
            && (content[2] & 0xff) == 0xBF
        ? 3
        : 0;
  }

  private static java.nio.charset.CharsetDecoder decoder() {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
  }

  /** The line of the first byte that is not UTF-8. */
  private static int badUtf8Line(byte[] content, int from) {
    ByteBuffer in = ByteBuffer.wrap(content, from, content.length - from);
    java.nio.CharBuffer out = java.nio.CharBuffer.allocate(8192);
    java.nio.charset.CharsetDecoder decoder = decoder();
    while (true) {
      java.nio.charset.CoderResult result = decoder.decode(in, out, true);
      if (result.isError() || !result.isOverflow()) {
        break;
      }
      out.clear();
    }
    int line = 1;
    for (int i = from; i < in.position(); i++) {
      if (content[i] == '\n') {
        line++;
      }
    }
    return line;
  }

  /** The first non-blank characters of the content, enough to tell an array from lines. */
  private static String firstChars(byte[] content, int from) {
    int i = from;
    while (i < content.length && Character.isWhitespace(content[i])) {
      i++;
    }
    return i < content.length ? String.valueOf((char) (content[i] & 0xff)) : "";
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

  private static Rows jsonl(String file, byte[] content, int from) {
    List<Row> rows = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    int number = 0;
    try (java.io.BufferedReader lines =
        new java.io.BufferedReader(
            new java.io.InputStreamReader(
                new java.io.ByteArrayInputStream(content, from, content.length - from),
                decoder()))) {
      for (String raw = lines.readLine(); raw != null; raw = lines.readLine()) {
        number++;
        String line = raw.strip();
        if (line.isEmpty()) {
          continue;
        }
        try {
          JsonElement element = JsonParser.parseString(line);
          if (element.isJsonObject()) {
            rows.add(new Row(number, element.getAsJsonObject()));
          } else {
            problems.add(
                new Problem(file, number, "expected a JSON object but found " + kindOf(element)));
          }
        } catch (JsonParseException e) {
          problems.add(new Problem(file, number, "is not valid JSON (" + reason(e) + ")"));
        }
      }
    } catch (java.nio.charset.CharacterCodingException e) {
      return new Rows(
          Layout.JSONL,
          List.of(),
          List.of(new Problem(file, badUtf8Line(content, from), "is not valid UTF-8 text")));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
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
