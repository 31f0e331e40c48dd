package dev.tuneforge.llm.checkpoint;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.tuneforge.llm.model.LlamaConfig;
import dev.tuneforge.llm.model.WeightNames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes a random checkpoint in the public shape of a real model (TinyLlama-1.1B, Qwen2.5-0.5B,
 * Llama-2-7B), in Hugging Face layout with BF16 tensors, streamed tensor by tensor so a 7B model
 * (13.5 GB) is written with a few megabytes of memory. Weights are uniform with standard deviation
 * 0.02 from a seeded generator, norms are 1, biases are small; the tokenizer is the tiny byte-level
 * one (its ids fit any vocabulary). For memory and speed at real sizes, not for quality.
 */
public final class RandomCheckpoint {
  /** Shards at most this large, as transformers writes them. */
  static final long MAX_SHARD_BYTES = 5_000_000_000L;

  private static final int CHUNK_VALUES = 1 << 22;

  private RandomCheckpoint() {}

  /** The public shapes, by the name the benchmark uses. */
  public static final Map<String, LlamaConfig> SHAPES =
      Map.of(
          "tinyllama-1.1b", shape("llama", 32000, 2048, 5632, 22, 32, 4, 64, 1e-5, 1e4, false),
          "qwen2.5-0.5b", shape("qwen2", 151936, 896, 4864, 24, 14, 2, 64, 1e-6, 1e6, true),
          "llama-2-7b", shape("llama", 32000, 4096, 11008, 32, 32, 32, 128, 1e-5, 1e4, false));

  private static LlamaConfig shape(
      String type,
      int vocab,
      int hidden,
      int inter,
      int layers,
      int heads,
      int kvHeads,
      int headDim,
      double eps,
      double theta,
      boolean qwen) {
    return new LlamaConfig(
        type,
        vocab,
        hidden,
        inter,
        layers,
        heads,
        kvHeads,
        headDim,
        eps,
        theta,
        Optional.empty(),
        qwen ? 32768 : (hidden == 4096 ? 4096 : 2048),
        qwen,
        false,
        false,
        qwen,
        1,
        List.of(2),
        0,
        false,
        0,
        java.util.Optional.empty());
  }

  /** The shape named {@code name}, or an error listing the known ones. */
  public static LlamaConfig shape(String name) {
    LlamaConfig config = SHAPES.get(name);
    if (config == null) {
      throw new IllegalArgumentException(
          "shape \"" + name + "\" is not one of " + new java.util.TreeSet<>(SHAPES.keySet()));
    }
    return config;
  }

  /** Every tensor of {@code config}: name to shape, in Hugging Face order. */
  public static Map<String, long[]> tensors(LlamaConfig config) {
    int hidden = config.hiddenSize();
    int q = config.numHeads() * config.headDim();
    int kv = config.numKvHeads() * config.headDim();
    int inter = config.intermediateSize();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put(WeightNames.EMBED_TOKENS, new long[] {config.vocabSize(), hidden});
    for (int i = 0; i < config.numLayers(); i++) {
      shapes.put(WeightNames.weight(i, WeightNames.Q_PROJ), new long[] {q, hidden});
      shapes.put(WeightNames.weight(i, WeightNames.K_PROJ), new long[] {kv, hidden});
      shapes.put(WeightNames.weight(i, WeightNames.V_PROJ), new long[] {kv, hidden});
      if (config.qkvBias()) {
        shapes.put(WeightNames.bias(i, WeightNames.Q_PROJ), new long[] {q});
        shapes.put(WeightNames.bias(i, WeightNames.K_PROJ), new long[] {kv});
        shapes.put(WeightNames.bias(i, WeightNames.V_PROJ), new long[] {kv});
      }
      shapes.put(WeightNames.weight(i, WeightNames.O_PROJ), new long[] {hidden, q});
      shapes.put(WeightNames.weight(i, WeightNames.GATE_PROJ), new long[] {inter, hidden});
      shapes.put(WeightNames.weight(i, WeightNames.UP_PROJ), new long[] {inter, hidden});
      shapes.put(WeightNames.weight(i, WeightNames.DOWN_PROJ), new long[] {hidden, inter});
      shapes.put(WeightNames.weight(i, WeightNames.INPUT_NORM), new long[] {hidden});
      shapes.put(WeightNames.weight(i, WeightNames.POST_ATTENTION_NORM), new long[] {hidden});
    }
    shapes.put(WeightNames.FINAL_NORM, new long[] {hidden});
    if (!config.tieWordEmbeddings()) {
      shapes.put(WeightNames.LM_HEAD, new long[] {config.vocabSize(), hidden});
    }
    return shapes;
  }

  /**
   * Writes config.json and BF16 shards of {@code config} drawn from {@code seed} into {@code dir}.
   */
  public static void write(Path dir, LlamaConfig config, long seed) {
    try {
      Files.createDirectories(dir);
      JsonObject json = config.toJson();
      json.addProperty("torch_dtype", "bfloat16");
      Files.writeString(
          dir.resolve("config.json"), new GsonBuilder().setPrettyPrinting().create().toJson(json));
      // The tiny byte-level tokenizer: its ids are valid in any larger vocabulary, so the model
      // can be scored and can generate (as bytes) from text.
      TinyLlama.writeTokenizer(dir);
      List<Map<String, long[]>> shards = shards(tensors(config));
      JsonObject weightMap = new JsonObject();
      long total = 0;
      long state = seed * 0x9E3779B97F4A7C15L + 1;
      for (int s = 0; s < shards.size(); s++) {
        String file =
            shards.size() == 1
                ? HfCheckpoint.SINGLE_FILE
                : String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
        state = writeShard(dir.resolve(file), shards.get(s), state);
        for (Map.Entry<String, long[]> t : shards.get(s).entrySet()) {
          weightMap.addProperty(t.getKey(), file);
          total += 2 * count(t.getValue());
        }
      }
      if (shards.size() > 1) {
        HfCheckpoint.writeIndex(dir, weightMap, total);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a random checkpoint to " + dir, e);
    }
  }

  private static List<Map<String, long[]>> shards(Map<String, long[]> tensors) {
    List<Map<String, long[]>> shards = new ArrayList<>();
    Map<String, long[]> current = new LinkedHashMap<>();
    long bytes = 0;
    for (Map.Entry<String, long[]> t : tensors.entrySet()) {
      long size = 2 * count(t.getValue());
      if (!current.isEmpty() && bytes + size > MAX_SHARD_BYTES) {
        shards.add(current);
        current = new LinkedHashMap<>();
        bytes = 0;
      }
      current.put(t.getKey(), t.getValue());
      bytes += size;
    }
    shards.add(current);
    return shards;
  }

  /** Writes one shard; returns the generator state after it. */
  private static long writeShard(Path file, Map<String, long[]> tensors, long state)
      throws IOException {
    JsonObject header = new JsonObject();
    JsonObject meta = new JsonObject();
    meta.addProperty("format", "pt");
    header.add("__metadata__", meta);
    long offset = 0;
    for (Map.Entry<String, long[]> t : tensors.entrySet()) {
      long size = 2 * count(t.getValue());
      JsonObject entry = new JsonObject();
      entry.addProperty("dtype", "BF16");
      entry.add("shape", new com.google.gson.Gson().toJsonTree(t.getValue()));
      entry.add(
          "data_offsets",
          new com.google.gson.Gson().toJsonTree(new long[] {offset, offset + size}));
      header.add(t.getKey(), entry);
      offset += size;
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int padding = (8 - json.length % 8) % 8;
    ByteBuffer buffer = ByteBuffer.allocateDirect(2 * CHUNK_VALUES).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel out =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer head =
          ByteBuffer.allocate(8 + json.length + padding).order(ByteOrder.LITTLE_ENDIAN);
      head.putLong(json.length + padding).put(json);
      for (int i = 0; i < padding; i++) {
        head.put((byte) ' ');
      }
      writeFully(out, head.flip());
      for (Map.Entry<String, long[]> t : tensors.entrySet()) {
        String name = t.getKey();
        boolean norm = name.endsWith("layernorm.weight") || name.equals(WeightNames.FINAL_NORM);
        float spread = name.endsWith(".bias") ? 0.002f : 0.02f;
        long left = count(t.getValue());
        while (left > 0) {
          int n = (int) Math.min(left, CHUNK_VALUES);
          buffer.clear();
          for (int i = 0; i < n; i++) {
            short value;
            if (norm) {
              value = (short) 0x3F80; // 1.0
            } else {
              state ^= state << 13;
              state ^= state >>> 7;
              state ^= state << 17;
              // uniform in [-sqrt(3) * spread, sqrt(3) * spread): standard deviation = spread
              float u = ((state >>> 40) * 0x1.0p-24f) * 2f - 1f;
              value = Bf16.narrow(u * 1.7320508f * spread);
            }
            buffer.putShort(value);
          }
          writeFully(out, buffer.flip());
          left -= n;
        }
      }
    }
    return state;
  }

  private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }

  static long count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
