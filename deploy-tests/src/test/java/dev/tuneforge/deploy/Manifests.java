package dev.tuneforge.deploy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The repository's deployment files as typed objects: Kubernetes resources through fabric8's model
 * (custom resources as {@link GenericKubernetesResource}), a Kustomize overlay as {@code kubectl
 * kustomize} (or {@code kustomize build}) renders it where one of them is installed.
 */
final class Manifests {
  static final Path REPO = Path.of("").toAbsolutePath().getParent();
  static final List<String> SERVICES =
      List.of("gateway", "data-service", "trainer-service", "reward-service", "eval-service");
  private static final KubernetesSerialization YAML = new KubernetesSerialization();

  private Manifests() {}

  /** Every resource of the files in k8s/base (the Kustomization itself aside). */
  static List<HasMetadata> base() {
    List<HasMetadata> resources = new ArrayList<>();
    try (Stream<Path> files = Files.list(REPO.resolve("k8s/base"))) {
      for (Path file : files.sorted().toList()) {
        if (file.toString().endsWith(".yaml") && !file.endsWith("kustomization.yaml")) {
          resources.addAll(parse(Files.readString(file)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return resources;
  }

  /** The overlay as Kustomize renders it; the test is skipped where no Kustomize is installed. */
  static List<HasMetadata> overlay(String name) {
    Path dir = REPO.resolve("k8s/overlays").resolve(name);
    Optional<List<String>> command =
        onPath("kubectl")
            .map(k -> List.of(k, "kustomize", dir.toString()))
            .or(() -> onPath("kustomize").map(k -> List.of(k, "build", dir.toString())));
    Assumptions.assumeTrue(command.isPresent(), "no kubectl or kustomize to render " + dir);
    try {
      Process process = new ProcessBuilder(command.get()).redirectErrorStream(false).start();
      byte[] out = process.getInputStream().readAllBytes();
      String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new AssertionError("kustomize failed on " + dir + ": " + err);
      }
      return parse(new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static List<HasMetadata> parse(String yaml) {
    List<HasMetadata> resources = new ArrayList<>();
    for (String document : yaml.split("(?m)^---\\s*$")) {
      if (document.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) {
        continue;
      }
      Object parsed = YAML.unmarshal(document);
      if (parsed instanceof List<?> list) {
        resources.addAll((List<HasMetadata>) list);
      } else {
        resources.add((HasMetadata) parsed);
      }
    }
    return resources;
  }

  static <T extends HasMetadata> List<T> ofType(List<HasMetadata> resources, Class<T> type) {
    return resources.stream().filter(type::isInstance).map(type::cast).toList();
  }

  static <T extends HasMetadata> T named(List<HasMetadata> resources, Class<T> type, String name) {
    return ofType(resources, type).stream()
        .filter(r -> r.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
  }

  /** Custom resources of {@code kind} (ScaledObject, KafkaTopic, ServiceMonitor, ...). */
  static List<GenericKubernetesResource> custom(List<HasMetadata> resources, String kind) {
    return ofType(resources, GenericKubernetesResource.class).stream()
        .filter(r -> r.getKind().equals(kind))
        .toList();
  }

  @SuppressWarnings("unchecked")
  static <T> T field(GenericKubernetesResource resource, String... path) {
    Object at = resource.getAdditionalProperties();
    for (String key : path) {
      at = at instanceof Map<?, ?> map ? map.get(key) : null;
    }
    return (T) at;
  }

  /** A service's {@code quarkus.http.port} from its application.properties. */
  static int port(String service) {
    try {
      return Files.readAllLines(
              REPO.resolve(service + "/src/main/resources/application.properties"))
          .stream()
          .filter(l -> l.startsWith("quarkus.http.port="))
          .map(l -> Integer.parseInt(l.substring(l.indexOf('=') + 1).strip()))
          .findFirst()
          .orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every environment variable the services' configuration reads ({@code ${NAME...}}). */
  static List<String> settingsRead() {
    List<String> names = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    SERVICES.forEach(
        s -> files.add(REPO.resolve(s + "/src/main/resources/application.properties")));
    files.add(REPO.resolve("platform/src/main/resources/META-INF/microprofile-config.properties"));
    for (Path file : files) {
      try {
        java.util.regex.Matcher m =
            java.util.regex.Pattern.compile("\\$\\{([A-Z][A-Z0-9_]+)")
                .matcher(Files.readString(file));
        while (m.find()) {
          names.add(m.group(1));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return names;
  }

  private static Optional<String> onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path candidate = Path.of(dir, tool);
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate.toString());
      }
    }
    return Optional.empty();
  }
}
