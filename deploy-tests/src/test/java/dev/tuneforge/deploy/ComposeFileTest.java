package dev.tuneforge.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.yml (anchors and merge keys resolved): the infrastructure and every service, each
 * built from its Dockerfile, health-checked on its own port, started after Kafka is healthy and the
 * bucket exists, and configured only with settings the services read.
 */
class ComposeFileTest {
  @SuppressWarnings("unchecked")
  static final Map<String, Object> COMPOSE = load();

  @SuppressWarnings("unchecked")
  static Map<String, Object> load() {
    try {
      return new Yaml().load(Files.readString(Manifests.REPO.resolve("docker-compose.yml")));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> service(String name) {
    Map<String, Object> services = (Map<String, Object>) COMPOSE.get("services");
    assertTrue(services.containsKey(name), "compose runs " + name);
    return (Map<String, Object>) services.get(name);
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyServiceIsBuiltHealthCheckedAndStartedInOrder() throws Exception {
    for (String infrastructure : List.of("kafka", "minio", "minio-init", "prometheus", "grafana")) {
      service(infrastructure);
    }
    List<String> read = Manifests.settingsRead();
    for (String name : Manifests.SERVICES) {
      Map<String, Object> service = service(name);
      Map<String, Object> build = (Map<String, Object>) service.get("build");
      assertEquals(name, build.get("context"));
      assertTrue(
          Files.isRegularFile(
              Manifests.REPO.resolve(name).resolve((String) build.get("dockerfile"))),
          name + "'s Dockerfile exists");
      List<String> test =
          (List<String>) ((Map<String, Object>) service.get("healthcheck")).get("test");
      assertTrue(
          String.join(" ", test).contains(":" + Manifests.port(name) + "/q/health/ready"),
          name + " is checked on its port: " + test);
      Map<String, Object> depends = (Map<String, Object>) service.get("depends_on");
      assertEquals(
          "service_healthy", ((Map<String, Object>) depends.get("kafka")).get("condition"));
      assertEquals(
          "service_completed_successfully",
          ((Map<String, Object>) depends.get("minio-init")).get("condition"));
      Map<String, Object> environment = (Map<String, Object>) service.get("environment");
      for (String key : environment.keySet()) {
        assertTrue(read.contains(key), name + ": " + key + " is a setting the services read");
      }
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void volumesAreNamedAndPrometheusScrapesEveryService() throws Exception {
    Map<String, Object> volumes = (Map<String, Object>) COMPOSE.get("volumes");
    for (String name : Manifests.SERVICES) {
      Object mounts = service(name).get("volumes");
      if (mounts == null) {
        continue;
      }
      for (Object mount : (List<Object>) mounts) {
        if (mount instanceof String text && !text.startsWith(".")) {
          String volume = text.substring(0, text.indexOf(':'));
          assertTrue(volumes.containsKey(volume), name + " mounts a declared volume " + volume);
        }
      }
    }
    String scrape = Files.readString(Manifests.REPO.resolve("deploy/prometheus/prometheus.yml"));
    for (String name : Manifests.SERVICES) {
      assertTrue(
          scrape.contains("\"" + name + ":" + Manifests.port(name) + "\""), name + " scraped");
    }
  }
}
