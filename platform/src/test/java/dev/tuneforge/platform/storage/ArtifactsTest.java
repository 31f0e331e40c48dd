package dev.tuneforge.platform.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Manifest-last commits against a real S3 server. */
class ArtifactsTest {
  @RegisterExtension static final S3TestServer S3 = new S3TestServer();

  @Test
  void committedArtefactListsItsFilesWithSizesAndHashes() throws Exception {
    ObjectStore store = S3.newStore();
    Artifacts artifacts = new Artifacts(store);
    try (ArtifactWriter writer = artifacts.begin("jobs/j1/checkpoints/step-10/")) {
      writer.put("adapter_config.json", utf8("{\"r\":16}"), "application/json");
      writer.put("adapter_model.safetensors", new byte[1000], "application/octet-stream");
      writer.commit(Map.of("step", "10"));
    }

    Manifest manifest = artifacts.manifest("jobs/j1/checkpoints/step-10/").orElseThrow();
    assertEquals(Manifest.FORMAT, manifest.format());
    assertEquals("10", manifest.metadata().get("step"));
    assertEquals(1000, manifest.file("adapter_model.safetensors").orElseThrow().size());
    // SHA-256 of 1000 zero bytes
    assertEquals(
        "541b3e9daa09b20bf85fa273e5cbd3e80185aa4ec298e765db87742b70138a53",
        manifest.file("adapter_model.safetensors").orElseThrow().sha256());
    try (InputStream in = artifacts.open("jobs/j1/checkpoints/step-10/", "adapter_config.json")) {
      assertArrayEquals(utf8("{\"r\":16}"), in.readAllBytes());
    }
  }

  @Test
  void readersIgnoreAPrefixWithoutManifest() {
    ObjectStore store = S3.newStore();
    Artifacts artifacts = new Artifacts(store);
    commit(artifacts, "jobs/j2/checkpoints/step-10/");
    // A crash after the files and before the manifest: the files exist, the artefact does not.
    store.put("jobs/j2/checkpoints/step-20/adapter_model.safetensors", new byte[10], "x/y");

    List<String> committed =
        artifacts.committedUnder("jobs/j2/checkpoints/").stream().map(Manifest::prefix).toList();
    assertEquals(List.of("jobs/j2/checkpoints/step-10/"), committed);
    assertTrue(artifacts.manifest("jobs/j2/checkpoints/step-20/").isEmpty());
    assertThrows(
        ObjectNotFoundException.class,
        () -> artifacts.open("jobs/j2/checkpoints/step-20/", "adapter_model.safetensors"));
  }

  @Test
  void closingAnUncommittedWriterRemovesWhatItWrote() {
    ObjectStore store = S3.newStore();
    Artifacts artifacts = new Artifacts(store);
    try (ArtifactWriter writer = artifacts.begin("datasets/ds-3/")) {
      writer.put("train.jsonl", utf8("{}\n"), "application/x-ndjson");
      // an exception here would skip commit; close() cleans up
    }
    assertEquals(List.of(), store.list("datasets/ds-3/"));
  }

  @Test
  void beginRemovesLeftoversOfAnEarlierCrashedWrite() {
    ObjectStore store = S3.newStore();
    Artifacts artifacts = new Artifacts(store);
    store.put("datasets/ds-4/stale.jsonl", utf8("old"), "x/y");
    try (ArtifactWriter writer = artifacts.begin("datasets/ds-4/")) {
      writer.put("train.jsonl", utf8("{}\n"), "application/x-ndjson");
      writer.commit(Map.of());
    }
    assertEquals(
        List.of("datasets/ds-4/manifest.json", "datasets/ds-4/train.jsonl"),
        store.list("datasets/ds-4/").stream().map(ObjectStore.ObjectInfo::key).toList());
  }

  @Test
  void committedArtefactIsImmutable() {
    Artifacts artifacts = new Artifacts(S3.newStore());
    commit(artifacts, "jobs/j5/final/");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> artifacts.begin("jobs/j5/final/"));
    assertTrue(e.getMessage().contains("jobs/j5/final/"), e.getMessage());
  }

  @Test
  void badPrefixesAndNamesAreRefusedWithTheValue() {
    Artifacts artifacts = new Artifacts(S3.newStore());
    IllegalArgumentException prefix =
        assertThrows(IllegalArgumentException.class, () -> artifacts.begin("jobs/j6"));
    assertTrue(prefix.getMessage().contains("\"jobs/j6\""), prefix.getMessage());
    try (ArtifactWriter writer = artifacts.begin("jobs/j6/")) {
      IllegalArgumentException name =
          assertThrows(
              IllegalArgumentException.class, () -> writer.put("../escape", new byte[1], "x/y"));
      assertTrue(name.getMessage().contains("\"../escape\""), name.getMessage());
      assertThrows(
          IllegalArgumentException.class, () -> writer.put("manifest.json", new byte[1], "x/y"));
    }
  }

  private static void commit(Artifacts artifacts, String prefix) {
    try (ArtifactWriter writer = artifacts.begin(prefix)) {
      writer.put("file.bin", new byte[3], "application/octet-stream");
      writer.commit(Map.of());
    }
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
