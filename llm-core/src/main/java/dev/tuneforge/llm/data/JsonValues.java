package dev.tuneforge.llm.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON as the plain Java values templates take: Map, List, String, Long, Double, Boolean, null. */
public final class JsonValues {
  private JsonValues() {}

  public static Object toJava(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (e.isJsonObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      e.getAsJsonObject().entrySet().forEach(x -> map.put(x.getKey(), toJava(x.getValue())));
      return map;
    }
    if (e.isJsonArray()) {
      List<Object> list = new ArrayList<>();
      e.getAsJsonArray().forEach(x -> list.add(toJava(x)));
      return list;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    if (p.isNumber()) {
      String text = p.getAsString();
      return text.matches("-?\\d{1,18}") ? (Object) Long.parseLong(text) : (Object) p.getAsDouble();
    }
    return p.getAsString();
  }
}
