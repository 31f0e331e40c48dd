package dev.tuneforge.proto;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the path of the JSON field that the proto3 JSON parser refused, so an error can name it
 * ({@code TrainingRequested.spec.hyperparameters.learning_rate}). The protobuf parser reports the
 * bad value but not where it sits.
 */
final class JsonFieldLocator {
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private JsonFieldLocator() {}

  /** The path of the first field that does not parse, if the JSON is an object at all. */
  static Optional<String> locate(String json, Descriptor type) {
    try {
      JsonElement root = JsonParser.parseString(json);
      return root.isJsonObject()
          ? locate(root.getAsJsonObject(), type, type.getName())
          : Optional.empty();
    } catch (RuntimeException notJson) {
      return Optional.empty();
    }
  }

  private static Optional<String> locate(JsonObject object, Descriptor type, String path) {
    for (Map.Entry<String, JsonElement> entry : object.entrySet()) {
      String fieldPath = path + "." + entry.getKey();
      FieldDescriptor field = fieldNamed(type, entry.getKey());
      if (field == null) {
        return Optional.of(fieldPath);
      }
      Optional<String> nested = locateNested(field, entry.getValue(), fieldPath);
      if (nested.isPresent()) {
        return nested;
      }
      JsonObject single = new JsonObject();
      single.add(entry.getKey(), entry.getValue());
      try {
        PARSER.merge(single.toString(), DynamicMessage.newBuilder(type));
      } catch (Exception e) {
        return Optional.of(fieldPath);
      }
    }
    return Optional.empty();
  }

  private static Optional<String> locateNested(
      FieldDescriptor field, JsonElement value, String path) {
    if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE || field.isMapField()) {
      return Optional.empty();
    }
    Descriptor nestedType = field.getMessageType();
    if (nestedType.getFullName().startsWith("google.protobuf.")) {
      return Optional.empty();
    }
    if (field.isRepeated() && value.isJsonArray()) {
      JsonArray items = value.getAsJsonArray();
      for (int i = 0; i < items.size(); i++) {
        if (items.get(i).isJsonObject()) {
          Optional<String> found =
              locate(items.get(i).getAsJsonObject(), nestedType, path + "[" + i + "]");
          if (found.isPresent()) {
            return found;
          }
        }
      }
      return Optional.empty();
    }
    return value.isJsonObject()
        ? locate(value.getAsJsonObject(), nestedType, path)
        : Optional.empty();
  }

  private static FieldDescriptor fieldNamed(Descriptor type, String name) {
    FieldDescriptor byProtoName = type.findFieldByName(name);
    if (byProtoName != null) {
      return byProtoName;
    }
    return type.getFields().stream()
        .filter(f -> f.getJsonName().equals(name))
        .findFirst()
        .orElse(null);
  }
}
