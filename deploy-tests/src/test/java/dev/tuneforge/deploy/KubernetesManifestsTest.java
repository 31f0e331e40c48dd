package dev.tuneforge.deploy;

import static dev.tuneforge.deploy.Manifests.custom;
import static dev.tuneforge.deploy.Manifests.field;
import static dev.tuneforge.deploy.Manifests.named;
import static dev.tuneforge.deploy.Manifests.ofType;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.proto.Topics;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests (k8s/) hold to the deployment rules: every container has resources,
 * probes and a locked-down security context; images and ports are the services'; the stateless
 * services have disruption budgets; the trainer shuts down gracefully with a model cache and, in
 * the gpu overlay, asks for GPUs on GPU nodes; reward-service and eval-service scale on their own
 * within their topics' partitions; topics equal shared-proto's constants; every service is scraped
 * and the alerts are there.
 */
class KubernetesManifestsTest {
  static final List<HasMetadata> BASE = Manifests.base();
  static final Set<String> STATELESS =
      Set.of("gateway", "data-service", "reward-service", "eval-service");

  static Container container(Deployment deployment) {
    List<Container> containers = deployment.getSpec().getTemplate().getSpec().getContainers();
    assertEquals(1, containers.size(), deployment.getMetadata().getName());
    return containers.get(0);
  }

  @Test
  void everyContainerHasResourcesProbesConfigAndALockedDownSecurityContext() {
    List<Deployment> deployments = ofType(BASE, Deployment.class);
    assertEquals(
        Set.copyOf(Manifests.SERVICES),
        deployments.stream().map(d -> d.getMetadata().getName()).collect(Collectors.toSet()));
    for (Deployment deployment : deployments) {
      String name = deployment.getMetadata().getName();
      Container c = container(deployment);
      for (String kind : List.of("cpu", "memory")) {
        assertNotNull(c.getResources().getRequests().get(kind), name + " requests " + kind);
        assertNotNull(c.getResources().getLimits().get(kind), name + " limits " + kind);
      }
      assertEquals("/q/health/live", c.getLivenessProbe().getHttpGet().getPath(), name);
      assertEquals("/q/health/ready", c.getReadinessProbe().getHttpGet().getPath(), name);
      Set<String> from =
          c.getEnvFrom().stream()
              .map(
                  e ->
                      e.getConfigMapRef() != null
                          ? "configmap:" + e.getConfigMapRef().getName()
                          : "secret:" + e.getSecretRef().getName())
              .collect(Collectors.toSet());
      assertEquals(Set.of("configmap:tuneforge-config", "secret:tuneforge-secrets"), from, name);
      PodSpec pod = deployment.getSpec().getTemplate().getSpec();
      assertTrue(pod.getSecurityContext().getRunAsNonRoot(), name + " runs as non-root");
      assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem(), name + " read-only root");
      assertEquals(false, c.getSecurityContext().getAllowPrivilegeEscalation(), name);
      assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop(), name);
      assertTrue(
          c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/tmp")),
          name + " writes /tmp only, on a volume");
    }
  }

  @Test
  void imagesAndPortsAreTheServicesOwn() throws Exception {
    for (String name : Manifests.SERVICES) {
      int port = Manifests.port(name);
      Container c = container(named(BASE, Deployment.class, name));
      assertTrue(c.getImage().startsWith("tuneforge/" + name + ":"), c.getImage());
      assertEquals(port, c.getPorts().get(0).getContainerPort(), name);
      assertEquals(port, named(BASE, Service.class, name).getSpec().getPorts().get(0).getPort());
      String dockerfile =
          java.nio.file.Files.readString(
              Manifests.REPO.resolve(name + "/src/main/docker/Dockerfile.jvm"));
      assertTrue(dockerfile.contains("EXPOSE " + port), name + "'s image exposes " + port);
      assertTrue(dockerfile.contains("USER 185"), name + "'s image runs as a user");
    }
  }

  @Test
  void statelessServicesHaveDisruptionBudgetsAndTheTrainerShutsDownGracefully() {
    Set<String> budgeted =
        ofType(BASE, PodDisruptionBudget.class).stream()
            .map(p -> p.getSpec().getSelector().getMatchLabels().get("app.kubernetes.io/name"))
            .collect(Collectors.toSet());
    assertEquals(STATELESS, budgeted);
    Deployment trainer = named(BASE, Deployment.class, "trainer-service");
    PodSpec pod = trainer.getSpec().getTemplate().getSpec();
    assertTrue(pod.getTerminationGracePeriodSeconds() >= 120, "time to write a checkpoint");
    assertNotNull(container(trainer).getLifecycle().getPreStop(), "preStop");
    assertEquals("Recreate", trainer.getSpec().getStrategy().getType(), "one job owner at a time");
    assertTrue(
        pod.getVolumes().stream()
            .anyMatch(
                v ->
                    v.getPersistentVolumeClaim() != null
                        && v.getPersistentVolumeClaim()
                            .getClaimName()
                            .equals("trainer-model-cache")),
        "model cache volume");
  }

  @Test
  void configKeysAreSettingsTheServicesRead() {
    List<String> read = Manifests.settingsRead();
    ConfigMap config = named(BASE, ConfigMap.class, "tuneforge-config");
    for (String key : config.getData().keySet()) {
      assertTrue(read.contains(key), key + " is read by some service");
    }
  }

  @Test
  void topicsAreSharedProtosConstantsWithTheirDeadLetterTopics() {
    Map<String, GenericKubernetesResource> topics =
        custom(BASE, "KafkaTopic").stream()
            .collect(Collectors.toMap(t -> (String) field(t, "spec", "topicName"), t -> t));
    Set<String> expected = new HashSet<>(Topics.ALL);
    Topics.ALL.forEach(t -> expected.add(Topics.dlq(t)));
    assertEquals(expected, topics.keySet());
    assertEquals(
        "compact", field(topics.get(Topics.JOBS_STATUS), "spec", "config", "cleanup.policy"));
    for (GenericKubernetesResource topic : topics.values()) {
      assertEquals("tuneforge-kafka", topic.getMetadata().getLabels().get("strimzi.io/cluster"));
    }
  }

  /** The replicas a scaler may start, bounded by the partitions of the topic they consume. */
  static void assertScaledWithinPartitions(
      List<HasMetadata> rendered, String service, String topic) {
    int partitions =
        custom(rendered, "KafkaTopic").stream()
            .filter(t -> topic.equals(field(t, "spec", "topicName")))
            .map(t -> ((Number) field(t, "spec", "partitions")).intValue())
            .findFirst()
            .orElseThrow();
    List<GenericKubernetesResource> keda =
        custom(rendered, "ScaledObject").stream()
            .filter(s -> s.getMetadata().getName().equals(service))
            .toList();
    List<HorizontalPodAutoscaler> hpa =
        ofType(rendered, HorizontalPodAutoscaler.class).stream()
            .filter(h -> h.getSpec().getScaleTargetRef().getName().equals(service))
            .toList();
    assertEquals(1, keda.size() + hpa.size(), service + " has exactly one scaler");
    int max =
        keda.isEmpty()
            ? hpa.get(0).getSpec().getMaxReplicas()
            : ((Number) field(keda.get(0), "spec", "maxReplicaCount")).intValue();
    assertTrue(
        max <= partitions, service + ": " + max + " replicas over " + partitions + " partitions");
    if (!keda.isEmpty()) {
      List<Map<String, Object>> triggers = field(keda.get(0), "spec", "triggers");
      @SuppressWarnings("unchecked")
      Map<String, Object> metadata = (Map<String, Object>) triggers.get(0).get("metadata");
      assertEquals("kafka", triggers.get(0).get("type"));
      assertEquals(topic, metadata.get("topic"));
      assertEquals(service, metadata.get("consumerGroup"), "the service's consumer group");
    }
  }

  @Test
  void rewardAndEvalServicesScaleOnTheirOwnInEveryOverlay() {
    for (String overlay : List.of("cpu-dev", "gpu")) {
      List<HasMetadata> rendered = Manifests.overlay(overlay);
      assertScaledWithinPartitions(rendered, "reward-service", Topics.REWARD_REQUESTS);
      assertScaledWithinPartitions(rendered, "eval-service", Topics.CHECKPOINTS_SAVED);
    }
    assertEquals(
        "ScaledObject",
        custom(Manifests.overlay("gpu"), "ScaledObject").get(0).getKind(),
        "the gpu overlay scales with KEDA on consumer lag");
  }

  @Test
  void theGpuOverlayPutsTheTrainerOnGpuNodes() {
    List<HasMetadata> rendered = Manifests.overlay("gpu");
    Deployment trainer = named(rendered, Deployment.class, "trainer-service");
    Container c = container(trainer);
    Quantity gpus = c.getResources().getLimits().get("nvidia.com/gpu");
    assertNotNull(gpus, "the trainer asks for GPUs");
    assertTrue(Integer.parseInt(gpus.getAmount()) >= 1);
    PodSpec pod = trainer.getSpec().getTemplate().getSpec();
    assertTrue(
        pod.getNodeSelector() != null && pod.getNodeSelector().containsKey("nvidia.com/gpu.present")
            || pod.getAffinity() != null,
        "scheduled on GPU nodes");
    assertTrue(
        pod.getTolerations().stream().anyMatch(t -> "nvidia.com/gpu".equals(t.getKey())),
        "tolerates the GPU taint");
    assertTrue(c.getImage().endsWith("-cu126"), "the CUDA image: " + c.getImage());
    assertTrue(
        c.getEnv().stream()
            .anyMatch(e -> e.getName().equals("TUNEFORGE_DEVICE") && e.getValue().equals("cuda")));
    Deployment dev = named(Manifests.overlay("cpu-dev"), Deployment.class, "trainer-service");
    assertTrue(
        container(dev).getResources().getLimits().get("nvidia.com/gpu") == null,
        "cpu-dev asks for no GPU");
  }

  @Test
  void everyServiceIsScrapedAndTheAlertsAreThere() throws Exception {
    for (String service : Manifests.SERVICES) {
      GenericKubernetesResource monitor =
          custom(BASE, "ServiceMonitor").stream()
              .filter(m -> m.getMetadata().getName().equals(service))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no ServiceMonitor for " + service));
      Map<String, String> labels = field(monitor, "spec", "selector", "matchLabels");
      assertEquals(service, labels.get("app.kubernetes.io/name"));
      List<Map<String, Object>> endpoints = field(monitor, "spec", "endpoints");
      assertEquals("/q/metrics", endpoints.get(0).get("path"));
      assertEquals("http", endpoints.get(0).get("port"));
    }
    GenericKubernetesResource rule = custom(BASE, "PrometheusRule").get(0);
    List<Map<String, Object>> groups = field(rule, "spec", "groups");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> rules = (List<Map<String, Object>>) groups.get(0).get("rules");
    Map<String, Object> byAlert =
        rules.stream().collect(Collectors.toMap(r -> (String) r.get("alert"), r -> r.get("expr")));
    assertEquals(
        Set.of(
            "TuneForgeTrainingStalled",
            "TuneForgeRewardScoringLag",
            "TuneForgeDeadLetters",
            "TuneForgeTrainerRestarting"),
        byAlert.keySet());
    String compose =
        java.nio.file.Files.readString(Manifests.REPO.resolve("deploy/prometheus/rules.yml"));
    for (Object expr : byAlert.values()) {
      assertTrue(compose.contains((String) expr), "the same rule for compose: " + expr);
    }
  }

  @Test
  void theDashboardsAreProvisionedForGrafana() throws Exception {
    for (String overlay : List.of("cpu-dev", "gpu")) {
      ConfigMap dashboards =
          named(Manifests.overlay(overlay), ConfigMap.class, "tuneforge-dashboards");
      assertEquals("1", dashboards.getMetadata().getLabels().get("grafana_dashboard"));
      try (java.util.stream.Stream<java.nio.file.Path> files =
          java.nio.file.Files.list(Manifests.REPO.resolve("deploy/grafana/dashboards"))) {
        for (java.nio.file.Path file : files.toList()) {
          assertEquals(
              java.nio.file.Files.readString(file),
              dashboards.getData().get(file.getFileName().toString()),
              overlay + " carries " + file.getFileName());
        }
      }
    }
  }

  /** Every tuneforge_ metric a dashboard or an alert uses is in the catalogue (docs/metrics.md). */
  @Test
  void dashboardsAndAlertsUseCataloguedMetrics() throws Exception {
    String catalogue = java.nio.file.Files.readString(Manifests.REPO.resolve("docs/metrics.md"));
    java.util.regex.Pattern metric = java.util.regex.Pattern.compile("tuneforge_[a-z_]+");
    List<java.nio.file.Path> files = new java.util.ArrayList<>();
    try (java.util.stream.Stream<java.nio.file.Path> dashboards =
        java.nio.file.Files.list(Manifests.REPO.resolve("deploy/grafana/dashboards"))) {
      files.addAll(dashboards.toList());
    }
    files.add(Manifests.REPO.resolve("deploy/prometheus/rules.yml"));
    Set<String> used = new HashSet<>();
    for (java.nio.file.Path file : files) {
      java.util.regex.Matcher m = metric.matcher(java.nio.file.Files.readString(file));
      while (m.find()) {
        used.add(m.group().replaceAll("_(bucket|sum|count)$", ""));
      }
    }
    assertTrue(used.size() > 20, "" + used);
    for (String name : used) {
      assertTrue(catalogue.contains("`" + name + "`"), name + " is catalogued");
    }
  }

  /**
   * Tenants reach the gateway only: eval-service admits the gateway and Prometheus, reward-service
   * eval-service, the trainer and Prometheus, data-service and the trainer Prometheus alone; the
   * gateway has no policy. The secret instructions name the service credential.
   */
  @Test
  void internalServicesAdmitOnlyTheirCallers() throws Exception {
    List<HasMetadata> base = Manifests.base();
    Map<String, Set<String>> expected =
        Map.of(
            "eval-service", Set.of("gateway", "prometheus"),
            "reward-service", Set.of("eval-service", "trainer-service", "prometheus"),
            "data-service", Set.of("prometheus"),
            "trainer-service", Set.of("prometheus"));
    Map<String, Set<String>> actual = new java.util.TreeMap<>();
    for (NetworkPolicy policy : ofType(base, NetworkPolicy.class)) {
      String target =
          policy.getSpec().getPodSelector().getMatchLabels().get("app.kubernetes.io/name");
      assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes(), target);
      Set<String> callers = new HashSet<>();
      policy
          .getSpec()
          .getIngress()
          .forEach(
              rule -> {
                for (NetworkPolicyPeer peer : rule.getFrom()) {
                  callers.add(peer.getPodSelector().getMatchLabels().get("app.kubernetes.io/name"));
                }
              });
      actual.put(target, callers);
    }
    assertEquals(new java.util.TreeMap<>(expected), actual);
    String config = java.nio.file.Files.readString(Manifests.REPO.resolve("k8s/base/config.yaml"));
    assertTrue(config.contains("TUNEFORGE_SERVICE_TOKEN"), "the secret holds the service token");
  }
}
