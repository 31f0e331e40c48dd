package dev.tuneforge.eval.messaging;

import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.InboundEvents;
import dev.tuneforge.platform.messaging.JobStatuses;
import dev.tuneforge.platform.messaging.Received;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.JobStatusChanged;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Takes saved checkpoints from {@code checkpoints.saved}: a final checkpoint moves its job to
 * EVALUATING on {@code jobs.status} and is evaluated against the base model off the event loop; an
 * intermediate adapter checkpoint is evaluated too when the job sets {@code
 * eval.evaluate_checkpoints}, without a status change.
 */
@ApplicationScoped
public class CheckpointsSavedConsumer {
  static final String SERVICE = "eval-service";

  private final InboundEvents inbound;
  private final EventPublisher publisher;
  private final Emitter<JobStatusChanged> statuses;
  private final dev.tuneforge.eval.job.CheckpointEvaluator evaluator;
  private final dev.tuneforge.platform.storage.ObjectStore store;

  CheckpointsSavedConsumer(
      InboundEvents inbound,
      EventPublisher publisher,
      @Channel(Channels.JOBS_STATUS_OUT) Emitter<JobStatusChanged> statuses,
      dev.tuneforge.eval.job.CheckpointEvaluator evaluator,
      dev.tuneforge.platform.storage.ObjectStore store) {
    this.store = store;
    this.inbound = inbound;
    this.publisher = publisher;
    this.statuses = statuses;
    this.evaluator = evaluator;
  }

  @Incoming(Channels.CHECKPOINTS_SAVED_IN)
  public CompletionStage<Void> consume(Message<String> record) {
    return inbound.handle(
        Channels.CHECKPOINTS_SAVED_IN, record, CheckpointSaved.class, this::accept);
  }

  private CompletionStage<Void> accept(Received<CheckpointSaved> saved) {
    CheckpointSaved checkpoint = saved.event();
    if (store
        .stat(dev.tuneforge.proto.JobLifecycle.cancelledMarker(checkpoint.getJobId()))
        .isPresent()) {
      // The gateway cancelled the job: its checkpoints are not evaluated.
      return InboundEvents.done();
    }
    if (!checkpoint.getIsFinal()) {
      // An intermediate adapter checkpoint is scored when the job asks; the job keeps training.
      if (checkpoint.getSpec().getEval().getEvaluateCheckpoints()
          && checkpoint.getKind() == CheckpointSaved.Kind.ADAPTER) {
        evaluator.submit(checkpoint);
      }
      return InboundEvents.done();
    }
    String reason =
        "evaluating checkpoint "
            + checkpoint.getCheckpointId()
            + " (step "
            + checkpoint.getStep()
            + ") against "
            + checkpoint.getBaseModel().getName();
    String tenant = checkpoint.getSpec().getTenant();
    JobStatusChanged evaluating =
        JobStatuses.change(
                checkpoint.getJobId(), tenant, JobStatusChanged.Status.EVALUATING, reason, SERVICE)
            .build();
    return publisher.publish(statuses, evaluating).thenRun(() -> evaluator.submit(checkpoint));
  }
}
