package dev.tuneforge.data.messaging;

import dev.tuneforge.data.job.DatasetJobs;
import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.InboundEvents;
import dev.tuneforge.platform.messaging.JobStatuses;
import dev.tuneforge.platform.messaging.Received;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.JobLifecycle;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.TrainingRequested;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Accepts training requests from {@code training.requests}. A request that parses and validates
 * moves its job to PREPARING_DATA on {@code jobs.status} (carrying the spec, so the gateway's view
 * can be rebuilt from that topic alone); its dataset is then prepared off the event loop. Success
 * commits the splits and emits {@code DatasetPrepared}, with a PREPARING_DATA status whose reason
 * summarises the data; a refused dataset fails the job with every problem named by line. The record
 * is acknowledged only once those events are, so a crash mid-preparation redelivers it.
 *
 * <p>A request for a job the gateway cancelled ({@link JobLifecycle#cancelledMarker}), or one that
 * already ended (the trainer's {@code jobs/{id}/ended.json}: a replayed record), is acknowledged
 * and not prepared; a cancel that arrives during preparation stops the dataset from being handed
 * on.
 */
@ApplicationScoped
public class TrainingRequestsConsumer {
  static final String SERVICE = "data-service";
  static final String ACCEPTED = "training request accepted; preparing dataset ";
  private static final Logger LOG = Logger.getLogger(TrainingRequestsConsumer.class);

  private final InboundEvents inbound;
  private final EventPublisher publisher;
  private final Emitter<JobStatusChanged> statuses;
  private final Emitter<DatasetPrepared> prepared;
  private final DatasetJobs datasets;
  private final ObjectStore store;
  private final ExecutorService workers =
      Executors.newFixedThreadPool(
          Math.max(1, Runtime.getRuntime().availableProcessors()),
          runnable -> {
            Thread thread = new Thread(runnable, "dataset-preparation");
            thread.setDaemon(true);
            return thread;
          });

  TrainingRequestsConsumer(
      InboundEvents inbound,
      EventPublisher publisher,
      @Channel(Channels.JOBS_STATUS_OUT) Emitter<JobStatusChanged> statuses,
      @Channel(Channels.DATASETS_PREPARED_OUT) Emitter<DatasetPrepared> prepared,
      DatasetJobs datasets,
      ObjectStore store) {
    this.store = store;
    this.inbound = inbound;
    this.publisher = publisher;
    this.statuses = statuses;
    this.prepared = prepared;
    this.datasets = datasets;
  }

  @Incoming(Channels.TRAINING_REQUESTS_IN)
  public CompletionStage<Void> consume(Message<String> record) {
    return inbound.handle(
        Channels.TRAINING_REQUESTS_IN, record, TrainingRequested.class, this::accept);
  }

  private CompletionStage<Void> accept(Received<TrainingRequested> request) {
    JobSpec spec = request.event().getSpec();
    if (cancelled(spec.getJobId())) {
      LOG.infof("job %s was cancelled; its training request is not prepared", spec.getJobId());
      return InboundEvents.done();
    }
    if (store.stat("jobs/" + spec.getJobId() + "/ended.json").isPresent()) {
      LOG.infof("job %s already ended; its training request is not run again", spec.getJobId());
      return InboundEvents.done();
    }
    try {
      dev.tuneforge.proto.JobSpecRules.check(spec); // what the gateway checks at create time
    } catch (dev.tuneforge.proto.JobSpecRules.Violation v) {
      return report(
          spec,
          new DatasetJobs.Failed(
              dev.tuneforge.proto.v1.JobError.newBuilder()
                  .setCode("invalid_value")
                  .setMessage(v.getMessage())
                  .setParam(v.path())
                  .build()));
    }
    JobStatusChanged preparing =
        JobStatuses.change(
                spec.getJobId(),
                spec.getTenant(),
                JobStatusChanged.Status.PREPARING_DATA,
                ACCEPTED + spec.getDataset().getTrainingFile(),
                SERVICE)
            .setSpec(spec)
            .build();
    return publisher
        .publish(statuses, preparing)
        .thenCompose(ignored -> CompletableFuture.supplyAsync(() -> prepare(spec), workers))
        .thenCompose(result -> report(spec, result));
  }

  /**
   * Prepares the dataset; an unexpected failure (storage down, a bug) fails the job with its reason
   * instead of leaving it in validating_files.
   */
  private DatasetJobs.Result prepare(JobSpec spec) {
    try {
      return datasets.prepare(spec);
    } catch (RuntimeException | LinkageError e) {
      LOG.errorf(e, "job %s: dataset preparation failed", spec.getJobId());
      return new DatasetJobs.Failed(
          dev.tuneforge.proto.v1.JobError.newBuilder()
              .setCode("internal_error")
              .setMessage("dataset preparation failed: " + e)
              .setParam("training_file")
              .build());
    }
  }

  private CompletionStage<Void> report(JobSpec spec, DatasetJobs.Result result) {
    if (result instanceof DatasetJobs.Ready ready && cancelled(spec.getJobId())) {
      LOG.infof(
          "job %s was cancelled during preparation; its dataset is not handed on", spec.getJobId());
      return InboundEvents.done();
    }
    if (result instanceof DatasetJobs.Ready ready) {
      LOG.infof("job %s: %s", spec.getJobId(), ready.summary());
      JobStatusChanged summary =
          JobStatuses.change(
                  spec.getJobId(),
                  spec.getTenant(),
                  JobStatusChanged.Status.PREPARING_DATA,
                  ready.summary(),
                  SERVICE)
              .build();
      return publisher
          .publish(statuses, summary)
          .thenCompose(ignored -> publisher.publish(prepared, ready.event()));
    }
    DatasetJobs.Failed failed = (DatasetJobs.Failed) result;
    LOG.infof("job %s failed: %s", spec.getJobId(), failed.error().getMessage());
    JobStatusChanged failure =
        JobStatuses.change(
                spec.getJobId(),
                spec.getTenant(),
                JobStatusChanged.Status.FAILED,
                failed.error().getMessage(),
                SERVICE)
            .setError(failed.error())
            .build();
    return publisher.publish(statuses, failure);
  }

  private boolean cancelled(String jobId) {
    return store.stat(JobLifecycle.cancelledMarker(jobId)).isPresent();
  }

  @PreDestroy
  void stop() {
    workers.shutdownNow();
  }
}
