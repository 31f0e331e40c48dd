package dev.tuneforge.platform.messaging;

import dev.tuneforge.proto.Topics;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Creates the event topics and their dead-letter topics at start-up when missing, and makes {@code
 * jobs.status} compacted by job id so the latest state of every job survives retention. Safe to run
 * from every service at once. If the broker is not reachable yet, the service starts anyway (its
 * readiness reports Kafka down) and provisioning is retried in the background.
 */
@ApplicationScoped
public class TopicProvisioner {
  private static final Logger LOG = Logger.getLogger(TopicProvisioner.class);
  private static final long TIMEOUT_SECONDS = 15;
  private static final java.time.Duration RETRY = java.time.Duration.ofSeconds(10);

  private final String bootstrapServers;
  private final int partitions;
  private final short replicationFactor;
  private final int rewardPartitions;

  TopicProvisioner(
      @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers,
      @ConfigProperty(name = "tuneforge.kafka.partitions", defaultValue = "1") int partitions,
      @ConfigProperty(name = "tuneforge.kafka.replication-factor", defaultValue = "1")
          short replicationFactor,
      @ConfigProperty(name = "tuneforge.kafka.reward-request-partitions", defaultValue = "8")
          int rewardPartitions) {
    this.bootstrapServers = bootstrapServers;
    this.partitions = partitions;
    this.replicationFactor = replicationFactor;
    this.rewardPartitions = rewardPartitions;
  }

  /**
   * Partitions of {@code topic}: {@code reward.requests} is what reward-service replicas share as
   * one consumer group, so it has at least {@code reward-request-partitions} (requests are keyed by
   * correlation id, so no order is lost by spreading them); the rest have {@code partitions}.
   */
  int partitionsOf(String topic) {
    return topic.equals(Topics.REWARD_REQUESTS)
        ? Math.max(partitions, rewardPartitions)
        : partitions;
  }

  void onStart(@Observes StartupEvent start) {
    if (!tryProvision()) {
      // The broker may come up after the service (as in Kubernetes): keep trying in the
      // background; consumers that may not auto-create their topic wait for it meanwhile.
      Thread retry =
          new Thread(
              () -> {
                while (!Thread.currentThread().isInterrupted()) {
                  try {
                    Thread.sleep(RETRY.toMillis());
                  } catch (InterruptedException e) {
                    return;
                  }
                  if (tryProvision()) {
                    return;
                  }
                }
              },
              "topic-provisioner");
      retry.setDaemon(true);
      retry.start();
    }
  }

  private boolean tryProvision() {
    int timeoutMs = (int) TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS);
    try (Admin admin =
        Admin.create(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs))) {
      provision(admin);
      return true;
    } catch (Exception e) {
      LOG.warnf(e, "topics not provisioned yet; trying again in %s", RETRY);
      return false;
    }
  }

  /** Creates what is missing and compacts {@code jobs.status}. */
  public void provision(Admin admin) throws Exception {
    Set<String> existing = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    List<NewTopic> missing = new ArrayList<>();
    for (String topic : allTopics()) {
      if (!existing.contains(topic)) {
        missing.add(new NewTopic(topic, partitionsOf(topic), replicationFactor));
      }
    }
    try {
      admin.createTopics(missing).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
        throw e;
      }
    }
    if (existing.contains(Topics.REWARD_REQUESTS)) {
      int now =
          admin
              .describeTopics(List.of(Topics.REWARD_REQUESTS))
              .allTopicNames()
              .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
              .get(Topics.REWARD_REQUESTS)
              .partitions()
              .size();
      int wanted = partitionsOf(Topics.REWARD_REQUESTS);
      if (now < wanted) {
        admin
            .createPartitions(
                Map.of(
                    Topics.REWARD_REQUESTS,
                    org.apache.kafka.clients.admin.NewPartitions.increaseTo(wanted)))
            .all()
            .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    }
    ConfigResource status = new ConfigResource(ConfigResource.Type.TOPIC, Topics.JOBS_STATUS);
    Collection<AlterConfigOp> compact =
        List.of(
            new AlterConfigOp(
                new ConfigEntry(
                    TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT),
                AlterConfigOp.OpType.SET));
    admin
        .incrementalAlterConfigs(Map.of(status, compact))
        .all()
        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private static List<String> allTopics() {
    List<String> topics = new ArrayList<>(Topics.ALL);
    Topics.ALL.forEach(topic -> topics.add(Topics.dlq(topic)));
    return topics;
  }
}
