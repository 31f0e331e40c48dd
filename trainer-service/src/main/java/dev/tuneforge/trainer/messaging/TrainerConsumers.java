package dev.tuneforge.trainer.messaging;

import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.InboundEvents;
import dev.tuneforge.platform.messaging.JobStatuses;
import dev.tuneforge.platform.messaging.Received;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.JobCancelRequested;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.trainer.job.TrainerJobs;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * The trainer's inputs: a prepared dataset queues its job; a cancel request cancels a job this
 * replica holds. Each change is published on {@code jobs.status}.
 */
@ApplicationScoped
public class TrainerConsumers {
  static final String SERVICE = "trainer-service";
  private static final Logger LOG = Logger.getLogger(TrainerConsumers.class);

  private final InboundEvents inbound;
  private final EventPublisher publisher;
  private final Emitter<JobStatusChanged> statuses;
  private final TrainerJobs jobs;
  private final dev.tuneforge.trainer.job.JobRunner runner;

  TrainerConsumers(
      InboundEvents inbound,
      EventPublisher publisher,
      @Channel(Channels.JOBS_STATUS_OUT) Emitter<JobStatusChanged> statuses,
      TrainerJobs jobs,
      dev.tuneforge.trainer.job.JobRunner runner) {
    this.inbound = inbound;
    this.publisher = publisher;
    this.statuses = statuses;
    this.jobs = jobs;
    this.runner = runner;
  }

  @Incoming(Channels.DATASETS_PREPARED_IN)
  public CompletionStage<Void> datasetPrepared(Message<String> record) {
    return inbound.handle(
        Channels.DATASETS_PREPARED_IN, record, DatasetPrepared.class, this::queue);
  }

  @Incoming(Channels.JOBS_CONTROL_IN)
  public CompletionStage<Void> cancelRequested(Message<String> record) {
    return inbound.handle(Channels.JOBS_CONTROL_IN, record, JobCancelRequested.class, this::cancel);
  }

  /**
   * Queues the job and acknowledges at once (the run happens on the runner's thread, never on the
   * record); a job already held is not run twice.
   */
  private CompletionStage<Void> queue(Received<DatasetPrepared> prepared) {
    DatasetPrepared dataset = prepared.event();
    if (jobs.get(dataset.getJobId()).isPresent()) {
      LOG.infof("job %s already held by this replica; not run twice", dataset.getJobId());
      return InboundEvents.done();
    }
    if (jobs.cancelRecorded(dataset.getJobId())) {
      LOG.infof(
          "job %s was cancelled before its dataset was ready; not queued", dataset.getJobId());
      return InboundEvents.done();
    }
    TrainerJobs.Job job = jobs.queue(dataset.getSpec());
    String reason =
        "dataset "
            + dataset.getDatasetId()
            + " prepared ("
            + dataset.getSplitsCount()
            + " splits); job queued";
    return publisher
        .publish(statuses, status(job.spec(), job.status(), reason))
        .thenRun(() -> runner.submit(dataset));
  }

  private CompletionStage<Void> cancel(Received<JobCancelRequested> request) {
    String jobId = request.event().getJobId();
    return jobs.cancel(jobId)
        .map(
            job ->
                publisher.publish(
                    statuses,
                    status(
                        job.spec(),
                        JobStatusChanged.Status.CANCELLED,
                        "cancelled: " + request.event().getReason())))
        .orElseGet(
            () -> {
              LOG.infof("cancel for job %s ignored: not active on this replica", jobId);
              return InboundEvents.done();
            });
  }

  private static JobStatusChanged status(
      JobSpec spec, JobStatusChanged.Status status, String reason) {
    return JobStatuses.change(spec.getJobId(), spec.getTenant(), status, reason, SERVICE).build();
  }
}
