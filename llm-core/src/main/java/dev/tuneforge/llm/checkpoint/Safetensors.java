package dev.tuneforge.llm.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format: {@code u64 little-endian header length, JSON header, raw little-endian
 * tensor bytes}. Reading goes tensor by tensor straight from the file, so loading needs about one
 * tensor of extra memory, not a copy of the file; offsets are 64-bit. BF16 is widened to F32 in
 * Java because DJL's PyTorch JNI aborts the JVM on BF16. Writing sorts tensor names, pads the
 * header to 8 bytes and records {@code __metadata__} as the Rust writer does.
 */
public final class Safetensors {
  private static final long MAX_HEADER_BYTES = 100_000_000L;
  private static final Gson GSON = new Gson();

  private Safetensors() {}

  /** One tensor's entry in the header; offsets are relative to the data section. */
  public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {}

  /** The parsed header of a file. */
  public record Header(
      Map<String, TensorInfo> tensors, Map<String, String> metadata, long dataStart) {}

  /** Reads and checks the header of {@code file}. */
  public static Header readHeader(Path file) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, lengthBytes, 0, file);
      long headerLength = lengthBytes.flip().getLong();
      if (headerLength <= 0
          || headerLength > MAX_HEADER_BYTES
          || 8 + headerLength > channel.size()) {
        throw new IllegalArgumentException(
            file
                + " is not a safetensors file: header length "
                + headerLength
                + " is out of range");
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
      readFully(channel, headerBytes, 8, file);
      JsonObject json =
          JsonParser.parseString(new String(headerBytes.array(), StandardCharsets.UTF_8))
              .getAsJsonObject();
      return parseHeader(file, json, 8 + headerLength, channel.size());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    } catch (IllegalStateException | com.google.gson.JsonParseException e) {
      throw new IllegalArgumentException(
          file + " has a malformed safetensors header: " + e.getMessage(), e);
    }
  }

  private static Header parseHeader(Path file, JsonObject json, long dataStart, long fileSize) {
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> entry : json.entrySet()) {
      if (entry.getKey().equals("__metadata__")) {
        entry
            .getValue()
            .getAsJsonObject()
            .entrySet()
            .forEach(m -> metadata.put(m.getKey(), m.getValue().getAsString()));
        continue;
      }
      JsonObject t = entry.getValue().getAsJsonObject();
      long[] shape = GSON.fromJson(t.get("shape"), long[].class);
      long[] offsets = GSON.fromJson(t.get("data_offsets"), long[].class);
      String dtype = t.get("dtype").getAsString();
      long expected = elementCount(shape) * bytesPerElement(dtype, file, entry.getKey());
      if (offsets.length != 2
          || offsets[1] - offsets[0] != expected
          || dataStart + offsets[1] > fileSize) {
        throw new IllegalArgumentException(
            file
                + ": tensor "
                + entry.getKey()
                + " has data_offsets "
                + java.util.Arrays.toString(offsets)
                + " that do not match its shape "
                + java.util.Arrays.toString(shape)
                + " and dtype "
                + dtype
                + " or the file size "
                + fileSize);
      }
      tensors.put(
          entry.getKey(), new TensorInfo(entry.getKey(), dtype, shape, offsets[0], offsets[1]));
    }
    return new Header(tensors, metadata, dataStart);
  }

  /**
   * Reads one tensor into {@code manager}. Floating tensors are converted to {@code floatType}
   * (FLOAT32, FLOAT16, or BFLOAT16 with a JNI that maps it; a BF16 tensor is then read as stored);
   * integer tensors keep their type. The bytes are memory-mapped and copied once into
   * libtorch-owned memory; the mapping is released right away, so loading a model needs its size
   * plus one tensor.
   */
  public static NDArray read(
      NDManager manager, Path file, Header header, String name, DataType floatType) {
    TensorInfo info = header.tensors().get(name);
    if (info == null) {
      throw new IllegalArgumentException(file + " has no tensor named " + name);
    }
    long byteCount = info.end() - info.begin();
    if (byteCount > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(name + " is larger than 2 GiB; shard the checkpoint");
    }
    Shape shape = new Shape(info.shape());
    ByteBuffer mapped = map(file, header.dataStart() + info.begin(), byteCount);
    if (info.dtype().equals("BF16") && floatType == DataType.BFLOAT16) {
      // as stored, with a JNI that maps bfloat16 (HalfPrecision.bfloat16Mapped)
      try (NDArray view = manager.create(mapped, shape, DataType.BFLOAT16)) {
        return view.duplicate();
      } finally {
        DirectBuffers.free(mapped);
      }
    }
    ByteBuffer widened = info.dtype().equals("BF16") ? Bf16.widen(mapped) : null;
    try {
      DataType stored = widened != null ? DataType.FLOAT32 : dataType(info.dtype());
      try (NDArray view = manager.create(widened != null ? widened : mapped, shape, stored)) {
        boolean floating =
            stored == DataType.FLOAT32 || stored == DataType.FLOAT16 || stored == DataType.FLOAT64;
        if (floating
            && floatType == DataType.BFLOAT16
            && !dev.tuneforge.llm.engine.HalfPrecision.bfloat16Mapped()) {
          throw dev.tuneforge.llm.engine.HalfPrecision.bfloat16Refused("the tensors' float type");
        }
        // create() wraps the Java buffer; toType(copy)/duplicate() give libtorch-owned memory.
        return floating && stored != floatType ? view.toType(floatType, true) : view.duplicate();
      }
    } finally {
      DirectBuffers.free(mapped);
      if (widened != null) {
        DirectBuffers.free(widened);
      }
    }
  }

  /**
   * The stored values of one floating tensor read as float32 straight from the memory-mapped file
   * (BF16 and F16 widened element by element), for code that converts a tensor without creating it
   * (NF4 quantization). Closing releases the mapping.
   */
  public static final class Values implements AutoCloseable {
    private final ByteBuffer mapped;
    private final String dtype;
    private final long count;

    private Values(ByteBuffer mapped, String dtype, long count) {
      this.mapped = mapped;
      this.dtype = dtype;
      this.count = count;
    }

    /** Wraps little-endian float32 values already in memory. */
    public static Values ofFloat32(ByteBuffer littleEndian) {
      return new Values(
          littleEndian.order(ByteOrder.LITTLE_ENDIAN), "F32", littleEndian.remaining() / 4);
    }

    public long count() {
      return count;
    }

    /** Value {@code i} as float32. */
    public float get(int i) {
      return switch (dtype) {
        case "F32" -> mapped.getFloat(4 * i);
        case "BF16" -> Float.intBitsToFloat((mapped.getShort(2 * i) & 0xFFFF) << 16);
        case "F16" -> Half.toFloat(mapped.getShort(2 * i));
        default -> (float) mapped.getDouble(8 * i);
      };
    }

    @Override
    public void close() {
      DirectBuffers.free(mapped);
    }
  }

  /** The values of floating tensor {@code name}, mapped from {@code file}. */
  public static Values values(Path file, Header header, String name) {
    TensorInfo info = header.tensors().get(name);
    if (info == null) {
      throw new IllegalArgumentException(file + " has no tensor named " + name);
    }
    if (!java.util.Set.of("F32", "BF16", "F16", "F64").contains(info.dtype())) {
      throw new IllegalArgumentException(
          file + ": tensor " + name + " is " + info.dtype() + ", not a floating type");
    }
    long byteCount = info.end() - info.begin();
    if (byteCount > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(name + " is larger than 2 GiB; shard the checkpoint");
    }
    ByteBuffer mapped = map(file, header.dataStart() + info.begin(), byteCount);
    return new Values(mapped, info.dtype(), elementCount(info.shape()));
  }

  private static ByteBuffer map(Path file, long position, long size) {
    if (size == 0) {
      return ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      // Read-only is safe: the from_blob view over it is only read (cloned), then closed.
      return channel
          .map(FileChannel.MapMode.READ_ONLY, position, size)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot map " + size + " bytes of " + file, e);
    }
  }

  /** Writes {@code tensors} to {@code file}; {@code BF16}-named dtypes are not produced here. */
  public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) {
    Map<String, NDArray> sorted = new TreeMap<>(tensors);
    JsonObject header = new JsonObject();
    JsonObject meta = new JsonObject();
    metadata.forEach(meta::addProperty);
    header.add("__metadata__", meta);
    long offset = 0;
    for (Map.Entry<String, NDArray> entry : sorted.entrySet()) {
      NDArray array = entry.getValue();
      long size = array.size() * array.getDataType().getNumOfBytes();
      JsonObject t = new JsonObject();
      t.addProperty("dtype", dtypeName(array.getDataType(), entry.getKey()));
      t.add("shape", GSON.toJsonTree(array.getShape().getShape()));
      t.add("data_offsets", GSON.toJsonTree(new long[] {offset, offset + size}));
      header.add(entry.getKey(), t);
      offset += size;
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int padding = (8 - json.length % 8) % 8;
    try (OutputStream out = Files.newOutputStream(file)) {
      ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      length.putLong(json.length + padding);
      out.write(length.array());
      out.write(json);
      out.write(" ".repeat(padding).getBytes(StandardCharsets.US_ASCII));
      for (NDArray array : sorted.values()) {
        ByteBuffer data = array.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] chunk = new byte[data.remaining()];
        data.get(chunk);
        out.write(chunk);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  static long bytesPerElement(String dtype, Path file, String name) {
    return switch (dtype) {
      case "F64", "I64", "U64" -> 8;
      case "F32", "I32", "U32" -> 4;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "U8", "I8", "BOOL" -> 1;
      default ->
          throw new IllegalArgumentException(
              file
                  + ": tensor "
                  + name
                  + " has dtype "
                  + dtype
                  + ", which TuneForge does not read; supported: F64, F32, F16, BF16, I64, I32, U8, I8, BOOL");
    };
  }

  private static DataType dataType(String dtype) {
    return switch (dtype) {
      case "F64" -> DataType.FLOAT64;
      case "F32" -> DataType.FLOAT32;
      case "F16" -> DataType.FLOAT16;
      case "I64" -> DataType.INT64;
      case "I32" -> DataType.INT32;
      case "U8" -> DataType.UINT8;
      case "I8" -> DataType.INT8;
      case "BOOL" -> DataType.BOOLEAN;
      default -> throw new IllegalArgumentException("unsupported safetensors dtype " + dtype);
    };
  }

  private static String dtypeName(DataType type, String name) {
    return switch (type) {
      case FLOAT64 -> "F64";
      case FLOAT32 -> "F32";
      case FLOAT16 -> "F16";
      case INT64 -> "I64";
      case INT32 -> "I32";
      case UINT8 -> "U8";
      case INT8 -> "I8";
      case BOOLEAN -> "BOOL";
      default ->
          throw new IllegalArgumentException("cannot write tensor " + name + " of type " + type);
    };
  }

  private static long elementCount(long[] shape) {
    long count = 1;
    for (long dim : shape) {
      count *= dim;
    }
    return count;
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file)
      throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, at);
      if (n < 0) {
        throw new IllegalArgumentException(file + " is truncated");
      }
      at += n;
    }
  }
}
