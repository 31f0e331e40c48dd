package dev.tuneforge.llm.data.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.llm.data.JsonValues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of tools/reference/jinja_conformance.py renders byte for byte what Python's jinja2
 * renders in transformers' environment: templates exercising each construct the published chat
 * templates use, and the published templates of Llama 3/3.1/3.2, Qwen 2.5, Qwen 3 (two revisions),
 * Gemma 3, Mistral Nemo and DeepSeek V3 over conversations with template-like text, emoji and tool
 * calls. A case where jinja2 raised must raise here too, with raise_exception's own message.
 */
class JinjaConformanceTest {
  static final ZonedDateTime NOW = ZonedDateTime.of(2026, 12, 1, 19, 23, 55, 0, ZoneOffset.UTC);
  private static final Path REFERENCE = Path.of("src/test/resources/reference");

  @TestFactory
  List<DynamicTest> rendersLikeJinja2() throws Exception {
    JsonArray cases =
        JsonParser.parseString(Files.readString(REFERENCE.resolve("jinja-conformance.json")))
            .getAsJsonArray();
    assertTrue(cases.size() >= 190, "the golden file lists " + cases.size() + " cases");
    Map<String, String> published = new LinkedHashMap<>();
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement element : cases) {
      JsonObject c = element.getAsJsonObject();
      String source =
          c.has("template")
              ? c.get("template").getAsString()
              : published.computeIfAbsent(
                  c.get("published").getAsString(), JinjaConformanceTest::publishedTemplate);
      tests.add(DynamicTest.dynamicTest(c.get("name").getAsString(), () -> check(c, source)));
    }
    return tests;
  }

  private static String publishedTemplate(String model) {
    try {
      return JsonParser.parseString(
              Files.readString(REFERENCE.resolve("published-templates/" + model + ".json")))
          .getAsJsonObject()
          .get("chat_template")
          .getAsString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static void check(JsonObject c, String source) {
    Map<String, Object> context = (Map<String, Object>) JsonValues.toJava(c.get("context"));
    if (c.has("expected")) {
      String rendered = Template.parse(source, () -> NOW).render(context).text();
      assertEquals(c.get("expected").getAsString(), rendered);
    } else {
      TemplateException error =
          assertThrows(
              TemplateException.class, () -> Template.parse(source, () -> NOW).render(context));
      if (c.get("error").getAsString().equals("TemplateError")) {
        assertEquals(c.get("message").getAsString(), Template.raisedMessage(error));
      }
    }
  }
}
