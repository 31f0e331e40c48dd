package dev.tuneforge.data.prepare;

import com.google.gson.JsonObject;
import dev.tuneforge.proto.v1.DatasetRef;
import java.util.Optional;

/** What a record holds; every kind is normalised to the shape TRL reads for it. */
public enum DatasetKind {
  /** {@code {"text"}}. */
  TEXT("text"),
  /** {@code {"prompt","completion"}}. */
  PROMPT_COMPLETION("prompt/completion"),
  /** Alpaca {@code {"instruction","input","output"}}. */
  ALPACA("alpaca"),
  /** OpenAI chat {@code {"messages"}} (assistant {@code weight} 0/1), or ShareGPT conversations. */
  MESSAGES("messages"),
  /** {@code {"prompt","chosen","rejected"}} (plain or conversational), or OpenAI's DPO shape. */
  PREFERENCE("preference"),
  /** {@code {"prompt"}} for PPO and Best-of-N. */
  PROMPT_ONLY("prompt-only");

  private final String label;

  DatasetKind(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  /** The kind a record's fields suggest, if any. */
  public static Optional<DatasetKind> detect(JsonObject record) {
    if (record.has("messages") || record.has("conversations")) {
      return Optional.of(MESSAGES);
    }
    if (record.has("chosen") || record.has("rejected") || record.has("preferred_output")) {
      return Optional.of(PREFERENCE);
    }
    if (record.has("instruction")) {
      return Optional.of(ALPACA);
    }
    if (record.has("prompt")) {
      return Optional.of(record.has("completion") ? PROMPT_COMPLETION : PROMPT_ONLY);
    }
    if (record.has("text")) {
      return Optional.of(TEXT);
    }
    return Optional.empty();
  }

  /** The kind a job declares, or empty to detect it. */
  public static Optional<DatasetKind> of(DatasetRef.Format format) {
    return switch (format) {
      case TEXT -> Optional.of(TEXT);
      case PROMPT_COMPLETION -> Optional.of(PROMPT_COMPLETION);
      case ALPACA -> Optional.of(ALPACA);
      case MESSAGES -> Optional.of(MESSAGES);
      case PREFERENCE -> Optional.of(PREFERENCE);
      case PROMPT_ONLY -> Optional.of(PROMPT_ONLY);
      default -> Optional.empty();
    };
  }

  public DatasetRef.Format format() {
    return switch (this) {
      case TEXT -> DatasetRef.Format.TEXT;
      case PROMPT_COMPLETION -> DatasetRef.Format.PROMPT_COMPLETION;
      case ALPACA -> DatasetRef.Format.ALPACA;
      case MESSAGES -> DatasetRef.Format.MESSAGES;
      case PREFERENCE -> DatasetRef.Format.PREFERENCE;
      case PROMPT_ONLY -> DatasetRef.Format.PROMPT_ONLY;
    };
  }
}
