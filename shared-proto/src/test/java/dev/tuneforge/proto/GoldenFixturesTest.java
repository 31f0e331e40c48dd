package dev.tuneforge.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.protobuf.Message;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every event has a committed JSON fixture under {@code src/test/resources/golden/}. A change to a
 * contract that alters the wire form fails here; regenerate deliberately with {@code mvn test -pl
 * shared-proto -Dtuneforge.golden.update=true} and review the diff.
 */
class GoldenFixturesTest {
  private static final Path GOLDEN_DIR = Path.of("src/test/resources/golden");

  @ParameterizedTest
  @EnumSource(EventType.class)
  void goldenFixtureParsesToTheSampleEvent(EventType type) throws IOException {
    Message sample = SampleEvents.all().get(type);
    String fileName = type.messageClass().getSimpleName() + ".json";
    if (Boolean.getBoolean("tuneforge.golden.update")) {
      Files.writeString(GOLDEN_DIR.resolve(fileName), EventCodec.toPrettyJson(sample) + "\n");
    }
    String golden = readGolden(fileName);

    assertEquals(sample, EventCodec.parse(golden, type));
    assertEquals(golden.strip(), EventCodec.toPrettyJson(sample).strip());
  }

  /** Reads a fixture from the classpath, as other modules' tests do through the test jar. */
  public static String readGolden(String fileName) throws IOException {
    try (InputStream in = GoldenFixturesTest.class.getResourceAsStream("/golden/" + fileName)) {
      assertNotNull(in, "missing fixture golden/" + fileName);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
