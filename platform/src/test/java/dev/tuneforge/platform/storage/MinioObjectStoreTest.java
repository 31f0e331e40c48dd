package dev.tuneforge.platform.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The object store against a real S3 server. */
class MinioObjectStoreTest {
  @RegisterExtension static final S3TestServer S3 = new S3TestServer();

  @Test
  void bucketIsCreatedOnceAndReportedAsExisting() {
    MinioObjectStore store = S3.store(dev.tuneforge.servers.S3Server.SECRET_KEY, "fresh-bucket");
    assertFalse(store.bucketExists());
    store.ensureBucket();
    store.ensureBucket();
    assertTrue(store.bucketExists());
  }

  @Test
  void putGetListAndDelete() {
    ObjectStore store = S3.newStore();
    store.put("datasets/ds-1/train.jsonl", bytes("{\"text\":\"a\"}\n"), "application/x-ndjson");
    store.put(
        "datasets/ds-1/validation.jsonl", bytes("{\"text\":\"b\"}\n"), "application/x-ndjson");
    store.put("models/tiny/config.json", bytes("{}"), "application/json");

    assertArrayEquals(bytes("{\"text\":\"a\"}\n"), store.getBytes("datasets/ds-1/train.jsonl"));
    assertEquals(
        List.of("datasets/ds-1/train.jsonl", "datasets/ds-1/validation.jsonl"),
        store.list("datasets/").stream().map(ObjectStore.ObjectInfo::key).toList());
    assertEquals(List.of("datasets/", "models/"), store.listPrefixes(""));
    assertEquals(2, store.stat("models/tiny/config.json").orElseThrow().size());

    store.delete("datasets/ds-1/train.jsonl");
    assertTrue(store.stat("datasets/ds-1/train.jsonl").isEmpty());
    store.deletePrefix("datasets/");
    assertEquals(List.of(), store.list("datasets/"));
  }

  @Test
  void missingObjectIsANamedError() {
    ObjectStore store = S3.newStore();
    ObjectNotFoundException e =
        assertThrows(ObjectNotFoundException.class, () -> store.getBytes("jobs/none/x.json"));
    assertTrue(e.getMessage().contains("jobs/none/x.json"), e.getMessage());
  }

  @Test
  void wrongSecretIsRefusedBecauseSignaturesAreChecked() {
    MinioObjectStore store = S3.store("wrong-secret", "any-bucket");
    StorageException e = assertThrows(StorageException.class, store::bucketExists);
    assertTrue(e.getMessage().contains("any-bucket"), e.getMessage());
  }

  @Test
  void largeObjectOfUnknownSizeStreamsThroughMultipartUpload() throws Exception {
    ObjectStore store = S3.newStore();
    long size = 3 * MinioObjectStore.PART_SIZE + 12345;
    MessageDigest written = MessageDigest.getInstance("SHA-256");
    store.put(
        "models/big/model.safetensors",
        new DigestInputStream(new RandomStream(size, 7), written),
        -1,
        "application/octet-stream");

    assertEquals(size, store.stat("models/big/model.safetensors").orElseThrow().size());
    MessageDigest read = MessageDigest.getInstance("SHA-256");
    try (InputStream in = new DigestInputStream(store.get("models/big/model.safetensors"), read)) {
      in.transferTo(OutputStreamDiscard.INSTANCE);
    }
    assertArrayEquals(written.digest(), read.digest());
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** {@code size} pseudo-random bytes produced on the fly, never held in memory. */
  static final class RandomStream extends InputStream {
    private final Random random;
    private long remaining;

    RandomStream(long size, long seed) {
      this.remaining = size;
      this.random = new Random(seed);
    }

    @Override
    public int read() {
      if (remaining <= 0) {
        return -1;
      }
      remaining--;
      return random.nextInt(256);
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int n = (int) Math.min(length, remaining);
      byte[] chunk = new byte[n];
      random.nextBytes(chunk);
      System.arraycopy(chunk, 0, buffer, offset, n);
      remaining -= n;
      return n;
    }
  }

  /** Discards what is written to it. */
  static final class OutputStreamDiscard extends java.io.OutputStream {
    static final OutputStreamDiscard INSTANCE = new OutputStreamDiscard();

    @Override
    public void write(int b) {}

    @Override
    public void write(byte[] b, int off, int len) {}
  }
}
