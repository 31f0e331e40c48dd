package dev.tuneforge.servers.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * What the launcher started, kept in {@code <home>/state.properties} so a later {@code ./tuneforge}
 * call can report or stop it: for each process its pid and port.
 */
final class StackState {
  private final Path file;
  private final Properties values = new Properties();

  StackState(Path home) {
    this.file = home.resolve("state.properties");
    if (Files.exists(file)) {
      try (Reader reader = Files.newBufferedReader(file)) {
        values.load(reader);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
    }
  }

  Optional<Long> pid(String name) {
    return Optional.ofNullable(values.getProperty(name + ".pid")).map(Long::parseLong);
  }

  Optional<Integer> port(String name) {
    return Optional.ofNullable(values.getProperty(name + ".port")).map(Integer::parseInt);
  }

  Optional<String> get(String key) {
    return Optional.ofNullable(values.getProperty(key));
  }

  void record(String name, long pid, int port) {
    values.setProperty(name + ".pid", Long.toString(pid));
    values.setProperty(name + ".port", Integer.toString(port));
    save();
  }

  void put(String key, String value) {
    values.setProperty(key, value);
    save();
  }

  void forget(String name) {
    values.remove(name + ".pid");
    save();
  }

  private void save() {
    try {
      Files.createDirectories(file.getParent());
      try (Writer writer = Files.newBufferedWriter(file)) {
        values.store(writer, "TuneForge local stack; written by ./tuneforge");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
