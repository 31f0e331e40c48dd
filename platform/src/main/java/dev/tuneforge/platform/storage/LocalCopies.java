package dev.tuneforge.platform.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Copies of bucket prefixes on local disk (models and checkpoints that libtorch reads). */
public final class LocalCopies {
  static final String COMPLETE = ".complete";

  private LocalCopies() {}

  /**
   * Copies every object under {@code prefix} into {@code dir} once: a copy marked complete is
   * reused, a partial one (a crash mid-copy) is replaced.
   *
   * @return {@code dir}
   */
  public static Path copyPrefix(ObjectStore store, String prefix, Path dir) {
    if (Files.exists(dir.resolve(COMPLETE))) {
      return dir;
    }
    try {
      delete(dir);
      Files.createDirectories(dir);
      for (ObjectStore.ObjectInfo object : store.list(prefix)) {
        Path target = dir.resolve(object.key().substring(prefix.length())).normalize();
        if (!target.startsWith(dir)) {
          throw new IllegalArgumentException("object " + object.key() + " escapes " + prefix);
        }
        Files.createDirectories(target.getParent());
        try (InputStream in = store.get(object.key())) {
          Files.copy(in, target);
        }
      }
      Files.writeString(dir.resolve(COMPLETE), "");
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + prefix + " to " + dir, e);
    }
  }

  /**
   * The base model an adapter names ({@code base_model_name_or_path}: the trainer writes the path
   * of its local copy, whose last element is the model's name) copied once from {@code
   * models/<name>/} into {@code dir/<name>}; refused by name when the bucket has no such model.
   */
  public static Path baseModel(ObjectStore store, String base, Path dir) {
    Path last = Path.of(base).getFileName();
    String name = last == null ? "" : last.toString();
    String prefix = "models/" + name + "/";
    if (name.isEmpty() || store.stat(prefix + "config.json").isEmpty()) {
      throw new IllegalArgumentException(
          "the adapter's base model \""
              + base
              + "\" is not in storage: "
              + prefix
              + "config.json is missing");
    }
    return copyPrefix(store, prefix, dir.resolve(name));
  }

  /** Deletes {@code dir} and everything in it, if it exists. */
  public static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }
}
