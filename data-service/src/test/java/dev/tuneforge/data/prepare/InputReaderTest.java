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

  @Test
  void theFirstKnownRecordIsFoundWithoutReadingFurther() {
    // A JSONL file with a byte that is not UTF-8 far down: the first record of a known kind is
    // found before the reader gets there.
    java.io.ByteArrayOutputStream content = new java.io.ByteArrayOutputStream();
    content.writeBytes(
        utf8("not json\n{\"other\": 1}\n{\"prompt\": \"a\", \"completion\": \"b\"}\n"));
    for (int line = 0; line < 2000; line++) { // far past the reader's first buffer
      content.writeBytes(utf8("{\"text\": \"line " + line + "\"}\n"));
    }
    content.write(0xC3);
    content.writeBytes(utf8("{\"text\": \"after\"}\n"));
    assertEquals(
        java.util.Optional.of(DatasetKind.PROMPT_COMPLETION),
        InputReader.first("training_file", "a.jsonl", content.toByteArray(), DatasetKind::detect));
    assertEquals(
        java.util.Optional.of(DatasetKind.TEXT),
        InputReader.first(
            "training_file",
            "a.json",
            utf8("[{\"x\": 1}, {\"text\": \"t\"}]"),
            DatasetKind::detect));
  }
}
