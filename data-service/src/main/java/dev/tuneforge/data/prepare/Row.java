package dev.tuneforge.data.prepare;

import com.google.gson.JsonObject;

/** One input record and where it came from. */
public record Row(int line, JsonObject record) {}
