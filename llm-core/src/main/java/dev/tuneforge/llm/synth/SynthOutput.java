package dev.tuneforge.llm.synth;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Files written so that a reader never sees half of them: each is written to a temporary name and
 * moved into place, and {@value #MANIFEST} (the files and their line counts) comes last; a
 * directory without it is unfinished. Run state is saved the same way.
 */
public final class SynthOutput {
  /** Written last: what the directory holds. */
  public static final String MANIFEST = "manifest.json";

  static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  private SynthOutput() {}

  /** Writes {@code text} to {@code file} atomically (a temporary file moved into place). */
  static void writeAtomically(Path file, String text) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Path partial = file.resolveSibling("." + file.getFileName() + ".partial");
      Files.writeString(partial, text, StandardCharsets.UTF_8);
      Files.move(
          partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /**
   * Writes each named JSONL file of {@code files} and {@code stats.json}, then the manifest;
   * returns the manifest.
   */
  static JsonObject write(Path dir, Map<String, List<JsonObject>> files, JsonObject stats) {
    JsonObject manifest = new JsonObject();
    JsonObject listed = new JsonObject();
    for (Map.Entry<String, List<JsonObject>> file : files.entrySet()) {
      StringBuilder text = new StringBuilder();
      for (JsonObject record : file.getValue()) {
        text.append(GSON.toJson(record)).append('\n');
      }
      writeAtomically(dir.resolve(file.getKey()), text.toString());
      listed.addProperty(file.getKey(), file.getValue().size());
    }
    writeAtomically(dir.resolve("stats.json"), GSON.toJson(stats) + "\n");
    manifest.add("files", listed);
    manifest.addProperty("stats", "stats.json");
    writeAtomically(dir.resolve(MANIFEST), GSON.toJson(manifest) + "\n");
    return manifest;
  }

  /** Whether {@code dir} holds a finished output. */
  public static boolean complete(Path dir) {
    return Files.isRegularFile(dir.resolve(MANIFEST));
  }
}
