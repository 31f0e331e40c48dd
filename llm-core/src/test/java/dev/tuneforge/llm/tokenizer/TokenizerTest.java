package dev.tuneforge.llm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.llm.checkpoint.TinyLlama;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenizerTest {
  @TempDir static Path dir;
  static Tokenizer tokenizer;

  @BeforeAll
  static void writeTinyModel() {
    TinyLlama.write(dir, 3, TinyLlama.Size.DEFAULT);
    tokenizer = Tokenizer.load(dir);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "hello world",
        "Größe naïve café — 東京 🚀 здравствуй мир",
        "tabs\tand\nnew lines  and  spaces ",
        ""
      })
  void utf8TextRoundTrips(String text) {
    int[] ids = tokenizer.encodePlain(text);
    assertEquals(text, tokenizer.decode(ids, false));
  }

  @Test
  void bytesWithoutMergesAreTheirOwnIdsAndMergesApply() {
    assertArrayEquals(new int[] {'x', 'y', 'z'}, tokenizer.encodePlain("xyz"));
    int[] the = tokenizer.encodePlain(" the");
    assertEquals(1, the.length, "\" the\" merges into one token");
    assertEquals(" the", tokenizer.decode(the, false));
    assertTrue(tokenizer.encodePlain("é").length == 2, "a two-byte character is two byte tokens");
    assertEquals("é".getBytes(StandardCharsets.UTF_8).length, 2);
  }

  @Test
  void bosIsAddedAsTheConfigAsksAndSpecialsAreKnown() {
    SpecialTokens special = tokenizer.special();
    assertEquals(TinyLlama.specialId("<s>"), special.bosId());
    assertEquals(TinyLlama.specialId("</s>"), special.eosId());
    assertEquals(TinyLlama.specialId("<pad>"), special.padId());
    int[] ids = tokenizer.encode("hi");
    assertArrayEquals(new int[] {special.bosId(), 'h', 'i'}, ids);
    assertEquals("hi", tokenizer.decode(ids, true));
    assertEquals("<s>hi", tokenizer.decode(ids, false));
  }

  @Test
  void missingTokenizerJsonSaysWhatToDo(@TempDir Path empty) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(empty));
    assertTrue(e.getMessage().contains("no tokenizer.json"), e.getMessage());
  }
}
