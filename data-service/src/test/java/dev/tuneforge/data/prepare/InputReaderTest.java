package dev.tuneforge.data.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class InputReaderTest {
  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void jsonlLinesKeepTheirNumbersAcrossBlankLinesAndCrLf() {
    InputReader.Rows rows =
        InputReader.read(
            "training_file",
            "a.jsonl",
            utf8("\uFEFF{\"text\":\"a\"}\r\n\r\n[1]\n{\"text\":\"b\"}\n"));
    assertEquals(InputReader.Layout.JSONL, rows.layout());
    assertEquals(List.of(1, 4), rows.rows().stream().map(Row::line).toList());
    assertEquals(
        List.of("training_file line 3: expected a JSON object but found an array"),
        rows.problems().stream().map(Problem::toString).toList());
  }

  @Test
  void aByteThatIsNotUtf8IsNamedByItsLine() {
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    for (int line = 1; line <= 5000; line++) {
      content.writeBytes(
          utf8("{\"text\":\"line " + line + " of a file longer than one buffer\"}\n"));
    }
    content.writeBytes(utf8("{\"text\":\"bad "));
    content.write(0xC3); // a lead byte with no continuation
    content.writeBytes(utf8("\"}\n{\"text\":\"after\"}\n"));
    InputReader.Rows rows = InputReader.read("training_file", "a.jsonl", content.toByteArray());
    assertEquals(
        List.of("training_file line 5001: is not valid UTF-8 text"),
        rows.problems().stream().map(Problem::toString).toList());
  }

  @Test
  void anArrayAndCsvAreReadWhole() {
    assertEquals(
        2,
        InputReader.read("training_file", "a.json", utf8(" [{\"text\":\"a\"},{\"text\":\"b\"}]"))
            .rows()
            .size());
    assertEquals(
        List.of(1, 2),
        InputReader.read("training_file", "a.csv", utf8("text\na\nb\n")).rows().stream()
            .map(Row::line)
            .toList());
  }
}
