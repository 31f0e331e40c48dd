package dev.tuneforge.gateway.messaging;

import dev.tuneforge.gateway.job.JobViews;
import dev.tuneforge.platform.messaging.InboundEvents;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.EvalCompleted;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.TrainingProgress;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Folds the job topics into the {@link JobViews} the API serves. */
@ApplicationScoped
public class GatewayConsumers {
  private final InboundEvents inbound;
  private final JobViews views;

  GatewayConsumers(InboundEvents inbound, JobViews views) {
    this.inbound = inbound;
    this.views = views;
  }

  @Incoming(Channels.JOBS_STATUS_IN)
  public CompletionStage<Void> statusChanged(Message<String> record) {
    return inbound.handle(
        Channels.JOBS_STATUS_IN,
        record,
        JobStatusChanged.class,
        r -> {
          views.apply(r.id(), r.event());
          return InboundEvents.done();
        });
  }

  @Incoming(Channels.TRAINING_PROGRESS_IN)
  public CompletionStage<Void> progress(Message<String> record) {
    return inbound.handle(
        Channels.TRAINING_PROGRESS_IN,
        record,
        TrainingProgress.class,
        r -> {
          views.apply(r.id(), r.event());
          return InboundEvents.done();
        });
  }

  @Incoming(Channels.CHECKPOINTS_SAVED_IN)
  public CompletionStage<Void> checkpointSaved(Message<String> record) {
    return inbound.handle(
        Channels.CHECKPOINTS_SAVED_IN,
        record,
        dev.tuneforge.proto.v1.CheckpointSaved.class,
        r -> {
          views.apply(r.id(), r.event());
          return InboundEvents.done();
        });
  }

  @Incoming(Channels.EVALS_COMPLETED_IN)
  public CompletionStage<Void> evalCompleted(Message<String> record) {
    return inbound.handle(
        Channels.EVALS_COMPLETED_IN,
        record,
        EvalCompleted.class,
        r -> {
          views.apply(r.id(), r.event());
          return InboundEvents.done();
        });
  }
}
