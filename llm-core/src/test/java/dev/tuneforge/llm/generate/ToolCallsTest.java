package dev.tuneforge.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Tool calls are read in the shapes the published templates render them (Qwen 2.5/3's {@code
 * <tool_call>} blocks, Llama 3.1/3.2's bare JSON with "parameters", Mistral's [TOOL_CALLS]), and
 * only as calls to the request's tools with object arguments; anything else stays text.
 */
class ToolCallsTest {
  static final Set<String> TOOLS = Set.of("get_weather", "get_time");

  @Test
  void hermesBlocksAsQwenRendersThemAreCalls() {
    // the exact text the published Qwen 2.5 template renders for an assistant tool call
    String text =
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
            + "\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": \"{\\\"tz\\\": \\\"CET\\\"}\"}"
            + "\n</tool_call>";
    ToolCalls.Parsed parsed = ToolCalls.parse(text, TOOLS).orElseThrow();
    assertNull(parsed.content());
    assertEquals(
        List.of(
            new ToolCalls.Call("get_weather", "{\"city\":\"Paris\"}"),
            new ToolCalls.Call("get_time", "{\"tz\":\"CET\"}")),
        parsed.calls());
  }

  @Test
  void qwen3ThinkingAndTextAroundBlocksStayContent() {
    String text =
        "<think>\nNeed the weather.\n</think>\n\nLet me check.\n<tool_call>\n"
            + "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>";
    ToolCalls.Parsed parsed = ToolCalls.parse(text, TOOLS).orElseThrow();
    assertEquals("<think>\nNeed the weather.\n</think>\n\nLet me check.", parsed.content());
    assertEquals(List.of(new ToolCalls.Call("get_weather", "{\"city\":\"Oslo\"}")), parsed.calls());
  }

  @Test
  void llamaJsonAndMistralListsAreCalls() {
    assertEquals(
        List.of(new ToolCalls.Call("get_weather", "{\"city\":\"Rome\"}")),
        ToolCalls.parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}", TOOLS)
            .orElseThrow()
            .calls());
    assertEquals(
        List.of(new ToolCalls.Call("get_time", "{}")),
        ToolCalls.parse("<|python_tag|>{\"name\": \"get_time\", \"parameters\": {}}", TOOLS)
            .orElseThrow()
            .calls());
    assertEquals(
        2,
        ToolCalls.parse(
                "[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}},"
                    + " {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Bern\"}}]",
                TOOLS)
            .orElseThrow()
            .calls()
            .size());
  }

  @Test
  void anythingElseIsText() {
    for (String text :
        List.of(
            "The weather is fine.",
            "{\"name\": \"rm_rf\", \"parameters\": {}}", // not a tool of the request
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": [1]}\n</tool_call>",
            "<tool_call>\nnot json\n</tool_call>",
            "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}} and more",
            "{name: 'get_time', parameters: {}}", // lenient JSON is not JSON
            "[TOOL_CALLS][]")) {
      assertTrue(ToolCalls.parse(text, TOOLS).isEmpty(), text);
    }
    assertTrue(
        ToolCalls.parse("{\"name\": \"get_time\", \"parameters\": {}}", Set.of()).isEmpty(),
        "no tools in the request, no calls");
  }
}
