package dev.tuneforge.trainer.job;

import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.EventCodec;
import dev.tuneforge.proto.Topics;
import dev.tuneforge.proto.v1.DatasetPrepared;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.jboss.logging.Logger;

/**
 * Crash recovery. A job's ownership follows its {@code datasets.prepared} partition: when this
 * replica is assigned partitions, it looks in the bucket for jobs of those partitions that started
 * ({@code run.json}) but never ended ({@code ended.json}) and runs them again; the runner continues
 * each from its newest committed checkpoint. A replica that died is thereby replaced by whichever
 * replica the consumer group gives its partitions to, a restarted one included.
 */
@ApplicationScoped
@Identifier("trainer-resume")
public class Resumer implements KafkaConsumerRebalanceListener {
  private static final Logger LOG = Logger.getLogger(Resumer.class);
  private final ObjectStore store;
  private final JobRunner runner;

  Resumer(ObjectStore store, JobRunner runner) {
    this.store = store;
    this.runner = runner;
  }

  @Override
  public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
    Set<Integer> mine =
        partitions.stream()
            .filter(p -> p.topic().equals(Topics.DATASETS_PREPARED))
            .map(TopicPartition::partition)
            .collect(Collectors.toSet());
    if (mine.isEmpty()) {
      return;
    }
    int count = consumer.partitionsFor(Topics.DATASETS_PREPARED).size();
    Thread scan = new Thread(() -> scan(mine, count), "resume-scan");
    scan.setDaemon(true);
    scan.start();
  }

  private void scan(Set<Integer> mine, int count) {
    try {
      if (!store.bucketExists()) {
        return;
      }
      for (String prefix : store.listPrefixes("jobs/")) {
        String jobId = prefix.substring("jobs/".length(), prefix.length() - 1);
        int partition =
            Utils.toPositive(Utils.murmur2(jobId.getBytes(StandardCharsets.UTF_8))) % count;
        if (!mine.contains(partition)
            || store.stat(prefix + JobRunner.RUN).isEmpty()
            || store.stat(prefix + JobRunner.ENDED).isPresent()) {
          continue;
        }
        DatasetPrepared dataset =
            EventCodec.parse(
                new String(store.getBytes(prefix + JobRunner.RUN), StandardCharsets.UTF_8),
                DatasetPrepared.class);
        LOG.infof("job %s was left unfinished; resuming it on this replica", jobId);
        runner.resume(dataset);
      }
    } catch (RuntimeException e) {
      LOG.errorf(e, "cannot look for unfinished jobs");
    }
  }
}
