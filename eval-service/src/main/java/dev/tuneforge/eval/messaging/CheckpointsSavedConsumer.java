package dev.tuneforge.eval.messaging;

import com.google.protobuf.util.Timestamps;
import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.InboundEvents;
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
 * EVALUATING on {@code jobs.status}; intermediate ones are recorded in the service's metrics.
 */
@ApplicationScoped
public class CheckpointsSavedConsumer {
  static final String SERVICE = "eval-service";

  private final InboundEvents inbound;
  private final EventPublisher publisher;
  private final Emitter<JobStatusChanged> statuses;

  CheckpointsSavedConsumer(
      InboundEvents inbound,
      EventPublisher publisher,
      @Channel(Channels.JOBS_STATUS_OUT) Emitter<JobStatusChanged> statuses) {
    this.inbound = inbound;
    this.publisher = publisher;
    this.statuses = statuses;
  }

  @Incoming(Channels.CHECKPOINTS_SAVED_IN)
  public CompletionStage<Void> consume(Message<String> record) {
    return inbound.handle(
        Channels.CHECKPOINTS_SAVED_IN, record, CheckpointSaved.class, this::accept);
  }

  private CompletionStage<Void> accept(Received<CheckpointSaved> saved) {
    CheckpointSaved checkpoint = saved.event();
    if (!checkpoint.getIsFinal()) {
      return InboundEvents.done();
    }
    JobStatusChanged evaluating =
        JobStatusChanged.newBuilder()
            .setJobId(checkpoint.getJobId())
            .setStatus(JobStatusChanged.Status.EVALUATING)
            .setReason(
                "evaluating checkpoint "
                    + checkpoint.getCheckpointId()
                    + " (step "
                    + checkpoint.getStep()
                    + ") against "
                    + checkpoint.getBaseModel().getName())
            .setService(SERVICE)
            .setTime(Timestamps.now())
            .build();
    return publisher.publish(statuses, evaluating);
  }
}
