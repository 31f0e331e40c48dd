package dev.tuneforge.llm.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Weights of a Hugging Face model directory: {@code model.safetensors}, or shards named by {@code
 * model.safetensors.index.json}. Pickle formats ({@code .bin}, {@code .pt}, {@code .pth}) are
 * refused: unpickling runs arbitrary code.
 */
public final class HfCheckpoint {
  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX_FILE = "model.safetensors.index.json";

  /** Shard size Hugging Face transformers v4 used by default. */
  public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

  private HfCheckpoint() {}

  /** Loads every tensor of {@code dir}, floating ones as {@code floatType}. */
  public static Map<String, NDArray> load(Path dir, NDManager manager, DataType floatType) {
    Reader reader = open(dir);
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    for (String name : reader.names()) {
      tensors.put(name, reader.read(name, manager, floatType));
    }
    return tensors;
  }

  /**
   * The tensors of a model directory, read one at a time when asked: headers are parsed up front,
   * data is mapped per tensor, so whoever loads through it never holds more than the tensors it
   * keeps plus the one being read.
   */
  public static final class Reader {
    private final Map<String, Path> files = new LinkedHashMap<>();
    private final Map<Path, Safetensors.Header> headers = new LinkedHashMap<>();

    private Reader(Path dir) {
      refusePickles(dir);
      for (Map.Entry<Path, List<String>> shard : shards(dir).entrySet()) {
        Safetensors.Header header = Safetensors.readHeader(shard.getKey());
        headers.put(shard.getKey(), header);
        for (String name : shard.getValue()) {
          if (!header.tensors().containsKey(name)) {
            throw new IllegalArgumentException(
                shard.getKey() + " has no tensor " + name + ", which the index names");
          }
          files.put(name, shard.getKey());
        }
      }
    }

    /** Every tensor name, in checkpoint order. */
    public java.util.Set<String> names() {
      return java.util.Collections.unmodifiableSet(files.keySet());
    }

    public boolean has(String name) {
      return files.containsKey(name);
    }

    /** The stored shape of {@code name}. */
    public long[] shape(String name) {
      return info(name).shape();
    }

    /** The stored safetensors dtype of {@code name} (F32, BF16, ...). */
    public String dtype(String name) {
      return info(name).dtype();
    }

    /** Reads {@code name} into {@code manager}, a floating tensor as {@code floatType}. */
    public NDArray read(String name, NDManager manager, DataType floatType) {
      Path file = file(name);
      NDArray tensor = Safetensors.read(manager, file, headers.get(file), name, floatType);
      tensor.setName(name);
      return tensor;
    }

    /** The stored values of floating tensor {@code name}, mapped, without creating a tensor. */
    public Safetensors.Values values(String name) {
      Path file = file(name);
      return Safetensors.values(file, headers.get(file), name);
    }

    private Safetensors.TensorInfo info(String name) {
      return headers.get(file(name)).tensors().get(name);
    }

    private Path file(String name) {
      Path file = files.get(name);
      if (file == null) {
        throw new IllegalArgumentException("checkpoint has no tensor " + name);
      }
      return file;
    }
  }

  /** Opens {@code dir} for reading tensor by tensor. */
  public static Reader open(Path dir) {
    return new Reader(dir);
  }

  /** The files holding the weights and the tensor names in each. */
  static Map<Path, List<String>> shards(Path dir) {
    Path index = dir.resolve(INDEX_FILE);
    Map<Path, List<String>> shards = new TreeMap<>();
    if (Files.isRegularFile(index)) {
      JsonObject weightMap = readJson(index).getAsJsonObject("weight_map");
      if (weightMap == null) {
        throw new IllegalArgumentException(index + " has no weight_map");
      }
      weightMap
          .entrySet()
          .forEach(
              e ->
                  shards
                      .computeIfAbsent(
                          dir.resolve(e.getValue().getAsString()), f -> new ArrayList<>())
                      .add(e.getKey()));
      for (Path shard : shards.keySet()) {
        if (!Files.isRegularFile(shard)) {
          throw new IllegalArgumentException(
              index + " names " + shard.getFileName() + ", which is missing");
        }
      }
      return shards;
    }
    Path single = dir.resolve(SINGLE_FILE);
    if (!Files.isRegularFile(single)) {
      throw new IllegalArgumentException(
          dir
              + " has no "
              + SINGLE_FILE
              + " and no "
              + INDEX_FILE
              + "; a Hugging Face model directory holds one of them");
    }
    shards.put(single, new ArrayList<>(Safetensors.readHeader(single).tensors().keySet()));
    return shards;
  }

  /**
   * Saves {@code tensors} as {@code model.safetensors}, or as {@code model-0000k-of-0000n} shards
   * plus an index when they exceed {@code maxShardBytes}.
   */
  public static void save(Path dir, Map<String, NDArray> tensors, long maxShardBytes) {
    try {
      Files.createDirectories(dir);
      List<Map<String, NDArray>> groups = new ArrayList<>();
      Map<String, NDArray> current = new TreeMap<>();
      long currentBytes = 0;
      long total = 0;
      for (Map.Entry<String, NDArray> entry : new TreeMap<>(tensors).entrySet()) {
        long bytes = entry.getValue().size() * entry.getValue().getDataType().getNumOfBytes();
        if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
          groups.add(current);
          current = new TreeMap<>();
          currentBytes = 0;
        }
        current.put(entry.getKey(), entry.getValue());
        currentBytes += bytes;
        total += bytes;
      }
      groups.add(current);
      Map<String, String> metadata = Map.of("format", "pt");
      if (groups.size() == 1) {
        Safetensors.write(dir.resolve(SINGLE_FILE), groups.get(0), metadata);
        return;
      }
      JsonObject weightMap = new JsonObject();
      for (int i = 0; i < groups.size(); i++) {
        String file = String.format("model-%05d-of-%05d.safetensors", i + 1, groups.size());
        Safetensors.write(dir.resolve(file), groups.get(i), metadata);
        groups.get(i).keySet().forEach(name -> weightMap.addProperty(name, file));
      }
      writeIndex(dir, weightMap, total);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save weights to " + dir, e);
    }
  }

  /** Writes model.safetensors.index.json: each tensor's shard, and the total size. */
  static void writeIndex(Path dir, JsonObject weightMap, long totalBytes) throws IOException {
    JsonObject index = new JsonObject();
    JsonObject meta = new JsonObject();
    meta.addProperty("total_size", totalBytes);
    index.add("metadata", meta);
    index.add("weight_map", weightMap);
    Files.writeString(
        dir.resolve(INDEX_FILE), new GsonBuilder().setPrettyPrinting().create().toJson(index));
  }

  private static void refusePickles(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + " is not a directory");
    }
    boolean hasSafetensors =
        Files.exists(dir.resolve(SINGLE_FILE)) || Files.exists(dir.resolve(INDEX_FILE));
    try (Stream<Path> files = Files.list(dir)) {
      List<String> pickles =
          files
              .map(p -> p.getFileName().toString())
              .filter(
                  n ->
                      n.endsWith(".bin")
                          || n.endsWith(".pt")
                          || n.endsWith(".pth")
                          || n.endsWith(".ckpt"))
              .sorted()
              .toList();
      if (!pickles.isEmpty() && !hasSafetensors) {
        throw new IllegalArgumentException(
            dir
                + " holds only pickled weights "
                + pickles
                + ". TuneForge never unpickles: loading a pickle can run arbitrary code. Convert the"
                + " model to safetensors once, in Python: AutoModelForCausalLM.from_pretrained(dir)"
                + ".save_pretrained(out, safe_serialization=True)");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  static JsonObject readJson(Path file) {
    try {
      return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(file + " is not a JSON object: " + e.getMessage(), e);
    }
  }
}
