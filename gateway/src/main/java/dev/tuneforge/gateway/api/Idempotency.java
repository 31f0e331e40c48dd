package dev.tuneforge.gateway.api;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tuneforge.platform.storage.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The records behind {@code Idempotency-Key}: per tenant and key, the job a create made and a hash
 * of its request, kept in the bucket ({@code idempotency/{tenant}/{sha256(key)}.json}) so an SDK's
 * retry gets the same job, even across a gateway restart, and never a second one.
 */
final class Idempotency {
  record Record(String jobId, String requestHash) {}

  private Idempotency() {}

  static String key(String tenant, String idempotencyKey) {
    return "idempotency/" + tenant + "/" + hash(idempotencyKey) + ".json";
  }

  static String hash(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  static Optional<Record> read(ObjectStore store, String key) {
    if (store.stat(key).isEmpty()) {
      return Optional.empty();
    }
    JsonObject json =
        JsonParser.parseString(new String(store.getBytes(key), StandardCharsets.UTF_8))
            .getAsJsonObject();
    return Optional.of(
        new Record(json.get("job_id").getAsString(), json.get("request_sha256").getAsString()));
  }

  static void write(ObjectStore store, String key, Record record) {
    JsonObject json = new JsonObject();
    json.addProperty("job_id", record.jobId());
    json.addProperty("request_sha256", record.requestHash());
    store.put(key, json.toString().getBytes(StandardCharsets.UTF_8), "application/json");
  }
}
