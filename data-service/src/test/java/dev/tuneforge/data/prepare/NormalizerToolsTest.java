package dev.tuneforge.data.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

/**
 * Chat records keep OpenAI's tool shapes through normalisation (record tools, an assistant's
 * tool_calls with content null, a tool turn's tool_call_id and name), where they were dropped;
 * content null without tool calls is refused naming the message.
 */
class NormalizerToolsTest {
  @Test
  void toolCallsToolTurnsAndToolsSurviveNormalisation() throws Exception {
    JsonObject record =
        JsonParser.parseString(
                "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}],"
                    + " \"messages\": [{\"role\": \"user\", \"content\": \"go\"},"
                    + " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"1\","
                    + " \"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": \"{}\"}}]},"
                    + " {\"role\": \"tool\", \"tool_call_id\": \"1\", \"name\": \"f\", \"content\": \"ok\"},"
                    + " {\"role\": \"assistant\", \"content\": \"done\"}]}")
            .getAsJsonObject();
    JsonObject canonical = new Normalizer(null).normalize(record, DatasetKind.MESSAGES);
    assertEquals(record.get("tools"), canonical.get("tools"));
    JsonObject call = canonical.getAsJsonArray("messages").get(1).getAsJsonObject();
    assertTrue(call.get("content").isJsonNull());
    assertEquals(
        "f",
        call.getAsJsonArray("tool_calls")
            .get(0)
            .getAsJsonObject()
            .getAsJsonObject("function")
            .get("name")
            .getAsString());
    JsonObject tool = canonical.getAsJsonArray("messages").get(2).getAsJsonObject();
    assertEquals("1", tool.get("tool_call_id").getAsString());
    assertEquals("f", tool.get("name").getAsString());

    JsonObject empty =
        JsonParser.parseString(
                "{\"messages\": [{\"role\": \"user\", \"content\": null}, {\"role\": \"assistant\", \"content\": \"x\"}]}")
            .getAsJsonObject();
    Normalizer.Invalid refused =
        assertThrows(
            Normalizer.Invalid.class,
            () -> new Normalizer(null).normalize(empty, DatasetKind.MESSAGES));
    assertTrue(refused.getMessage().contains("messages[0].content"), refused.getMessage());
  }
}
