package dev.tuneforge.eval.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tuneforge.llm.generate.GenerationConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * Reading a completions request: its prompts, its sampling settings as a {@link GenerationConfig},
 * the context-length check, and typed fields, each refused with OpenAI's error naming the field.
 */
final class CompletionRequests {
  private CompletionRequests() {}

  static List<String> completionPrompts(JsonNode body) {
    JsonNode prompt = body.get("prompt");
    if (prompt != null && prompt.isTextual()) {
      return List.of(prompt.asText());
    }
    if (prompt != null && prompt.isArray() && !prompt.isEmpty()) {
      List<String> prompts = new ArrayList<>();
      for (int i = 0; i < prompt.size(); i++) {
        if (!prompt.get(i).isTextual()) {
          throw CompletionsResource.error(400, "prompt[" + i + "] must be a string", "prompt");
        }
        prompts.add(prompt.get(i).asText());
      }
      return prompts;
    }
    throw CompletionsResource.error(
        400, "prompt is required: a string or a list of strings", "prompt");
  }

  /**
   * The prompt and the completion must fit the positions the model covers, as OpenAI requires: a
   * prompt that fills them, or an explicit {@code max_tokens} past them, is a 400 {@code
   * context_length_exceeded} naming the field; a default {@code max_tokens} is shortened to what is
   * left.
   */
  static GenerationConfig contextChecked(
      GenerationConfig config,
      JsonNode body,
      boolean chat,
      ServedModels.Served served,
      List<int[]> prompts) {
    int context =
        Math.min(
            served.model().config().maxPositionEmbeddings(),
            dev.tuneforge.llm.model.LlamaModel.DEFAULT_MAX_POSITIONS);
    int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
    boolean explicit = body.has("max_tokens") || body.has("max_completion_tokens");
    if (longest >= context || (explicit && longest + config.maxNewTokens() > context)) {
      throw CompletionsResource.error(
          400,
          "This model's maximum context length is "
              + context
              + " tokens. However, you requested "
              + (longest + config.maxNewTokens())
              + " tokens ("
              + longest
              + " in the "
              + (chat ? "messages" : "prompt")
              + ", "
              + config.maxNewTokens()
              + " in the completion). Please reduce the length of the "
              + (chat ? "messages" : "prompt")
              + " or completion.",
          longest >= context ? (chat ? "messages" : "prompt") : "max_tokens",
          "context_length_exceeded");
    }
    return longest + config.maxNewTokens() <= context
        ? config
        : config.withMaxNewTokens(context - longest);
  }

  static GenerationConfig config(JsonNode body, boolean chat, ServedModels.Served served, int n) {
    int maxTokens =
        body.has("max_completion_tokens")
            ? integer(body, "max_completion_tokens", 16, 1, 4096)
            : integer(body, "max_tokens", chat ? 256 : 16, 1, 4096);
    double temperature = number(body, "temperature", 1.0, 0, 2);
    double topP = number(body, "top_p", 1.0, 0, 1);
    if (topP == 0) {
      throw CompletionsResource.error(400, "top_p must be in (0, 1] but was 0", "top_p");
    }
    List<String> stops = new ArrayList<>();
    JsonNode stop = body.get("stop");
    if (stop != null && stop.isTextual()) {
      stops.add(stop.asText());
    } else if (stop != null && stop.isArray()) {
      stop.forEach(s -> stops.add(s.asText()));
    }
    if (stops.size() > 4 || stops.stream().anyMatch(String::isEmpty)) {
      throw CompletionsResource.error(400, "stop takes up to 4 non-empty strings", "stop");
    }
    long seed = body.has("seed") ? body.get("seed").asLong() : new java.util.Random().nextLong();
    GenerationConfig config =
        GenerationConfig.greedy(maxTokens, new HashSet<>(served.model().config().eosTokenIds()))
            .withStopStrings(stops);
    if (temperature > 0) {
      config = config.withSampling(temperature, 0, topP, seed);
    } else if (n > 1) {
      throw CompletionsResource.error(
          400, "n > 1 needs temperature > 0; greedy gives n equal answers", "n");
    }
    return config;
  }

  static String text(JsonNode body, String field, boolean required) {
    JsonNode value = body.get(field);
    if (value == null || value.isNull()) {
      if (required) {
        throw CompletionsResource.error(400, field + " is required", field);
      }
      return null;
    }
    if (!value.isTextual()) {
      throw CompletionsResource.error(400, field + " must be a string", field);
    }
    return value.asText();
  }

  static int integer(JsonNode body, String field, int fallback, int min, int max) {
    JsonNode value = body.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.canConvertToInt()
        || !value.isIntegralNumber()
        || value.asInt() < min
        || value.asInt() > max) {
      throw CompletionsResource.error(
          400, field + " must be an integer in [" + min + ", " + max + "] but was " + value, field);
    }
    return value.asInt();
  }

  static double number(JsonNode body, String field, double fallback, double min, double max) {
    JsonNode value = body.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isNumber() || value.asDouble() < min || value.asDouble() > max) {
      throw CompletionsResource.error(
          400, field + " must be a number in [" + min + ", " + max + "] but was " + value, field);
    }
    return value.asDouble();
  }
}
