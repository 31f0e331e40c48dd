package dev.tuneforge.proto;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.tuneforge.proto.v1.OptionsProto;
import java.util.List;

/**
 * Checks the {@code (tuneforge.v1.required)} field option on a message and on every message nested
 * in it, and that identifiers ({@code job_id}, {@code tenant}, {@code dataset_id}) are safe to use
 * in object keys and names: letters, digits, '.', '_' and '-', starting with a letter or digit, no
 * "..", at most 128 characters. The error names the full field path, the rule and the value, e.g.
 * {@code TrainingRequested.spec.job_id is required but was empty}.
 */
public final class EventValidator {
  private static final java.util.Set<String> IDENTIFIERS =
      java.util.Set.of("job_id", "tenant", "dataset_id");
  private static final java.util.regex.Pattern IDENTIFIER =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private EventValidator() {}

  /** Throws {@link IllegalArgumentException} at the first required field that is not set. */
  public static void validate(Message message) {
    validate(message, message.getDescriptorForType().getName());
  }

  private static void validate(Message message, String path) {
    for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
      String fieldPath = path + "." + field.getName();
      if (field.getOptions().getExtension(OptionsProto.required)) {
        checkPresent(message, field, fieldPath);
      }
      if (IDENTIFIERS.contains(field.getName())
          && field.getJavaType() == FieldDescriptor.JavaType.STRING
          && !field.isRepeated()) {
        checkIdentifier((String) message.getField(field), fieldPath);
      }
      if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE || field.isMapField()) {
        continue;
      }
      if (field.isRepeated()) {
        List<?> items = (List<?>) message.getField(field);
        for (int i = 0; i < items.size(); i++) {
          validate((Message) items.get(i), fieldPath + "[" + i + "]");
        }
      } else if (message.hasField(field)) {
        validate((Message) message.getField(field), fieldPath);
      }
    }
  }

  /** An identifier, when set, is a safe name (it becomes part of object keys). */
  public static void checkIdentifier(String value, String path) {
    if (!value.isEmpty() && (!IDENTIFIER.matcher(value).matches() || value.contains(".."))) {
      throw new IllegalArgumentException(
          path
              + " must be letters, digits, '.', '_' or '-', start with a letter or digit, hold no"
              + " \"..\" and be at most 128 characters, but was \""
              + value
              + "\"");
    }
  }

  private static void checkPresent(Message message, FieldDescriptor field, String path) {
    if (field.isRepeated()) {
      if (message.getRepeatedFieldCount(field) == 0) {
        throw new IllegalArgumentException(path + " is required but was empty");
      }
      return;
    }
    if (field.hasPresence()) {
      if (!message.hasField(field)) {
        throw new IllegalArgumentException(path + " is required but was missing");
      }
      return;
    }
    Object value = message.getField(field);
    switch (field.getJavaType()) {
      case STRING -> {
        if (((String) value).isBlank()) {
          throw new IllegalArgumentException(path + " is required but was empty");
        }
      }
      case ENUM -> {
        EnumValueDescriptor enumValue = (EnumValueDescriptor) value;
        if (enumValue.getNumber() == 0) {
          throw new IllegalArgumentException(
              path + " is required but was " + enumValue.getName() + "; one of " + choices(field));
        }
      }
      default -> {
        // proto3 scalars without presence cannot tell zero from unset; zero is a valid value.
      }
    }
  }

  private static List<String> choices(FieldDescriptor field) {
    return field.getEnumType().getValues().stream()
        .filter(v -> v.getNumber() != 0)
        .map(EnumValueDescriptor::getName)
        .toList();
  }
}
