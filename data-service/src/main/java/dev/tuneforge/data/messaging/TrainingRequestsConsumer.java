package dev.tuneforge.data.messaging;

import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.InboundEvents;
import dev.tuneforge.platform.messaging.JobStatuses;
import dev.tuneforge.platform.messaging.Received;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.JobSpec;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.TrainingRequested;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Accepts training requests from {@code training.requests}: a request that parses and validates
 * moves its job to PREPARING_DATA on {@code jobs.status}, carrying the spec so the gateway's view
 * can be rebuilt from that topic alone.
 */
@ApplicationScoped
public class TrainingRequestsConsumer {
  static final String SERVICE = "data-service";

  private final InboundEvents inbound;
  private final EventPublisher publisher;
  private final Emitter<JobStatusChanged> statuses;

  TrainingRequestsConsumer(
      InboundEvents inbound,
      EventPublisher publisher,
      @Channel(Channels.JOBS_STATUS_OUT) Emitter<JobStatusChanged> statuses) {
    this.inbound = inbound;
    this.publisher = publisher;
    this.statuses = statuses;
  }

  @Incoming(Channels.TRAINING_REQUESTS_IN)
  public CompletionStage<Void> consume(Message<String> record) {
    return inbound.handle(
        Channels.TRAINING_REQUESTS_IN, record, TrainingRequested.class, this::accept);
  }

  private CompletionStage<Void> accept(Received<TrainingRequested> request) {
    JobSpec spec = request.event().getSpec();
    String reason =
        "training request accepted; preparing dataset " + spec.getDataset().getTrainingFile();
    JobStatusChanged preparing =
        JobStatuses.change(
                spec.getJobId(),
                spec.getTenant(),
                JobStatusChanged.Status.PREPARING_DATA,
                reason,
                SERVICE)
            .setSpec(spec)
            .build();
    return publisher.publish(statuses, preparing);
  }
}
