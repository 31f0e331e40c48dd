package dev.tuneforge.proto;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

/**
 * The wire form of events: the proto3 JSON mapping with the .proto field names (snake_case, as in
 * TRL/PEFT configs). Parsing is strict: unknown fields, wrong types and missing required fields are
 * refused with an {@link IllegalArgumentException} that names the event and the field.
 */
public final class EventCodec {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
  private static final JsonFormat.Printer PRETTY = JsonFormat.printer().preservingProtoFieldNames();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();
  private static final JsonFormat.Parser LENIENT = JsonFormat.parser().ignoringUnknownFields();

  private EventCodec() {}

  /** Compact proto3 JSON of an event. */
  public static String toJson(Message event) {
    return print(PRINTER, event);
  }

  /** Indented proto3 JSON, for fixtures and humans. */
  public static String toPrettyJson(Message event) {
    return print(PRETTY, event);
  }

  /** Parses and validates an event of a known type. */
  @SuppressWarnings("unchecked")
  public static <T extends Message> T parse(String json, Class<T> type) {
    return (T) parse(json, EventType.ofClass(type));
  }

  /** Parses and validates an event of {@code type}. */
  public static Message parse(String json, EventType type) {
    String name = type.messageClass().getSimpleName();
    if (json == null || json.isBlank()) {
      throw new IllegalArgumentException(name + ": record value is empty; expected a JSON object");
    }
    Message.Builder builder = type.defaultInstance().newBuilderForType();
    try {
      PARSER.merge(json, builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      String where =
          JsonFieldLocator.locate(json, builder.getDescriptorForType())
              .map(path -> path + ": ")
              .orElse(name + ": ");
      throw new IllegalArgumentException(where + describe(e), e);
    }
    Message event = builder.build();
    EventValidator.validate(event);
    return event;
  }

  /**
   * What can be read of a record that {@link #parse} refused, ignoring unknown fields and the
   * required-field rules: enough for a reply that names the request (its correlation id), never an
   * event to act on. Empty when even that is not JSON of the type's shape.
   */
  public static <T extends Message> java.util.Optional<T> salvage(String json, Class<T> type) {
    if (json == null || json.isBlank()) {
      return java.util.Optional.empty();
    }
    Message.Builder builder = EventType.ofClass(type).defaultInstance().newBuilderForType();
    try {
      LENIENT.merge(json, builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(type.cast(builder.buildPartial()));
  }

  private static String describe(Exception e) {
    String message = e.getMessage();
    if (e.getCause() != null && e.getCause().getMessage() != null) {
      message = message + " (" + e.getCause().getMessage() + ")";
    }
    return message == null ? e.getClass().getSimpleName() : message;
  }

  private static String print(JsonFormat.Printer printer, Message event) {
    try {
      return printer.print(event);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + event.getDescriptorForType().getName(), e);
    }
  }
}
