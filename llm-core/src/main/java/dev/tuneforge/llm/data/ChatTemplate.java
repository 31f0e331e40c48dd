package dev.tuneforge.llm.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.tree.Node;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A Jinja chat template rendered the way transformers does ({@code trim_blocks}, {@code
 * lstrip_blocks}, {@code raise_exception}), with Jinjava. Besides the text it reports the character
 * spans of assistant output: from {@code {% generation %}...{% endgeneration %}} blocks when the
 * template has them, otherwise by rendering the conversation turn by turn.
 */
public final class ChatTemplate {
  /** Templates for models that ship none. */
  public static final List<String> BUILT_IN = List.of("chatml", "llama2", "llama3", "alpaca");

  private static final char SPAN_START = '\uE000';
  private static final char SPAN_END = '\uE001';
  private static final Jinjava JINJAVA = jinjava();
  private static final ThreadLocal<String> RAISED = new ThreadLocal<>();
  private static final ThreadLocal<Context> PARENT_CONTEXT =
      ThreadLocal.withInitial(JINJAVA::getGlobalContextCopy);

  private final String name;
  private final String source;
  private volatile Node tree;

  public ChatTemplate(String name, String source) {
    this.name = name;
    this.source = source;
  }

  public String name() {
    return name;
  }

  public String source() {
    return source;
  }

  /** A built-in template: chatml, llama2, llama3 or alpaca. */
  public static ChatTemplate builtIn(String name) {
    if (!BUILT_IN.contains(name)) {
      throw new IllegalArgumentException(
          "no built-in chat template \"" + name + "\"; one of " + BUILT_IN);
    }
    String resource = "templates/" + name + ".jinja";
    try (InputStream in = ChatTemplate.class.getResourceAsStream(resource)) {
      return new ChatTemplate(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read built-in template " + name, e);
    }
  }

  /**
   * The template of a model directory, resolved as transformers does: {@code
   * tokenizer_config.json["chat_template"]} (a string, or a list of named templates), overridden by
   * a root {@code chat_template.jinja}, plus {@code additional_chat_templates/<name>.jinja}.
   *
   * @param name "default" or the name of an additional template
   */
  public static Optional<ChatTemplate> fromModel(
      Path dir, JsonObject tokenizerConfig, String name) {
    Map<String, String> templates = new HashMap<>();
    JsonElement configured = tokenizerConfig.get("chat_template");
    if (configured != null && configured.isJsonPrimitive()) {
      templates.put("default", configured.getAsString());
    } else if (configured != null && configured.isJsonArray()) {
      for (JsonElement entry : configured.getAsJsonArray()) {
        JsonObject named = entry.getAsJsonObject();
        templates.put(named.get("name").getAsString(), named.get("template").getAsString());
      }
    }
    readIfPresent(dir.resolve("chat_template.jinja")).ifPresent(t -> templates.put("default", t));
    Path additional = dir.resolve("additional_chat_templates");
    if (Files.isDirectory(additional)) {
      try (Stream<Path> files = Files.list(additional)) {
        files
            .filter(f -> f.getFileName().toString().endsWith(".jinja"))
            .forEach(
                f ->
                    templates.put(
                        f.getFileName().toString().replaceFirst("\\.jinja$", ""),
                        readIfPresent(f).orElseThrow()));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + additional, e);
      }
    }
    return Optional.ofNullable(templates.get(name)).map(source -> new ChatTemplate(name, source));
  }

  /** The rendered conversation and the character spans of assistant output in it. */
  public record Rendered(String text, List<int[]> assistantSpans) {}

  /** Renders {@code messages}; {@code special} supplies bos_token and eos_token. */
  public String render(
      List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, String> special) {
    return strip(renderRaw(messages, addGenerationPrompt, special));
  }

  /** Renders {@code messages} and locates the assistant output in the text. */
  public Rendered renderWithAssistantSpans(
      List<ChatMessage> messages, Map<String, String> special) {
    String raw = renderRaw(messages, false, special);
    if (raw.indexOf(SPAN_START) >= 0) {
      return markedSpans(raw);
    }
    String text = strip(raw);
    List<int[]> spans = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      if (!messages.get(i).role().equals("assistant")) {
        continue;
      }
      String before = render(messages.subList(0, i), true, special);
      String through = render(messages.subList(0, i + 1), false, special);
      if (!through.startsWith(before) || !text.startsWith(through)) {
        throw new IllegalArgumentException(
            "chat template \""
                + name
                + "\" does not render turn by turn (a prefix of the"
                + " conversation renders differently inside it), so assistant tokens cannot be"
                + " located; add {% generation %} blocks to the template");
      }
      spans.add(new int[] {before.length(), through.length()});
    }
    return new Rendered(text, spans);
  }

  private String renderRaw(
      List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, String> special) {
    Map<String, Object> context = new HashMap<>();
    context.put("messages", messages.stream().map(ChatMessage::asTemplateValue).toList());
    context.put("add_generation_prompt", addGenerationPrompt);
    context.put("bos_token", special.getOrDefault("bos_token", ""));
    context.put("eos_token", special.getOrDefault("eos_token", ""));
    RAISED.remove();
    // Jinjava's renderForResult copies the global context (re-registering every filter by
    // reflection) and re-parses the template on each call; a per-thread parent context and a
    // parse tree kept per template render the same text several times faster.
    Context scope =
        new Context(PARENT_CONTEXT.get(), context, JINJAVA.getGlobalConfig().getDisabled());
    JinjavaInterpreter interpreter =
        new JinjavaInterpreter(JINJAVA, scope, JINJAVA.getGlobalConfig());
    String output;
    List<TemplateError> errors;
    JinjavaInterpreter.pushCurrent(interpreter);
    try {
      Node parsed = tree;
      if (parsed == null) {
        parsed = interpreter.parse(source);
        if (interpreter.getErrors().isEmpty()) {
          tree = parsed;
        }
      }
      output = interpreter.render(parsed);
      errors = interpreter.getErrorsCopy();
    } finally {
      JinjavaInterpreter.popCurrent();
    }
    for (TemplateError error : errors) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new IllegalArgumentException(
            "chat template \""
                + name
                + "\" failed at line "
                + error.getLineno()
                + ": "
                + reason(error));
      }
    }
    return output;
  }

  private static String reason(TemplateError error) {
    String raised = RAISED.get();
    return raised != null ? "raise_exception: " + raised : error.getMessage();
  }

  private static Rendered markedSpans(String raw) {
    StringBuilder text = new StringBuilder();
    List<int[]> spans = new ArrayList<>();
    int start = -1;
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == SPAN_START) {
        start = text.length();
      } else if (c == SPAN_END) {
        spans.add(new int[] {start, text.length()});
      } else {
        text.append(c);
      }
    }
    return new Rendered(text.toString(), spans);
  }

  private static String strip(String raw) {
    return raw.replace(String.valueOf(SPAN_START), "").replace(String.valueOf(SPAN_END), "");
  }

  /** Called by templates as {@code raise_exception('message')}. */
  public static Object raiseException(String message) {
    // Jinjava reports only "Error invoking function"; keep the template's own words.
    RAISED.set(message);
    throw new IllegalArgumentException(message);
  }

  private static Jinjava jinjava() {
    Jinjava jinjava =
        new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    jinjava.getGlobalContext().registerTag(new GenerationTag(SPAN_START, SPAN_END));
    return jinjava;
  }

  private static Optional<String> readIfPresent(Path file) {
    try {
      return Files.isRegularFile(file) ? Optional.of(Files.readString(file)) : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
