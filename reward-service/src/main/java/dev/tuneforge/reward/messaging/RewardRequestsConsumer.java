package dev.tuneforge.reward.messaging;

import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.InboundEvents;
import dev.tuneforge.platform.messaging.Received;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.RewardScores;
import dev.tuneforge.reward.model.RewardBatcher;
import dev.tuneforge.reward.model.RewardModels;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Answers every request on {@code reward.requests} with exactly one {@code reward.scores} reply
 * carrying the same correlation id. A request for a model this replica does not serve gets a reply
 * whose {@code error} says so, and so does one that is not valid (then also dead-lettered), so the
 * requester fails fast instead of waiting. Several records are in flight at once ({@code
 * concurrency} consumers per replica), so the batcher can join them.
 */
@ApplicationScoped
public class RewardRequestsConsumer {
  private final InboundEvents inbound;
  private final EventPublisher publisher;
  private final Emitter<RewardScores> replies;
  private final RewardModels models;
  private final RewardBatcher batcher;

  RewardRequestsConsumer(
      InboundEvents inbound,
      EventPublisher publisher,
      @Channel(Channels.REWARD_SCORES_OUT) Emitter<RewardScores> replies,
      RewardModels models,
      RewardBatcher batcher) {
    this.inbound = inbound;
    this.publisher = publisher;
    this.replies = replies;
    this.models = models;
    this.batcher = batcher;
  }

  @Incoming(Channels.REWARD_REQUESTS_IN)
  public CompletionStage<Void> consume(Message<String> record) {
    return inbound.handle(
        Channels.REWARD_REQUESTS_IN, record, RewardRequest.class, this::reply, this::refused);
  }

  /** A request that is not valid is answered with the reason when it names its correlation id. */
  private CompletionStage<?> refused(RewardRequest salvaged, String reason) {
    if (salvaged.getCorrelationId().isBlank()) {
      return InboundEvents.done();
    }
    return publisher.publish(
        replies,
        RewardScores.newBuilder()
            .setCorrelationId(salvaged.getCorrelationId())
            .setRewardModel(salvaged.getRewardModel())
            .setJobId(salvaged.getJobId())
            .setReplyTo(salvaged.getReplyTo())
            .setError("the reward request was refused: " + reason)
            .build());
  }

  private CompletionStage<Void> reply(Received<RewardRequest> received) {
    RewardRequest request = received.event();
    RewardScores.Builder reply =
        RewardScores.newBuilder()
            .setCorrelationId(request.getCorrelationId())
            .setRewardModel(request.getRewardModel())
            .setJobId(request.getJobId())
            .setReplyTo(request.getReplyTo());
    if (!models.serves(request.getRewardModel())) {
      reply.setError(
          "reward model \""
              + request.getRewardModel()
              + "\" is not loaded on this replica; loaded: "
              + models.names());
      return publisher.publish(replies, reply.build());
    }
    // Scored by the batcher's thread, joined with other requests; the record is acknowledged
    // once the reply is published, so a replica that dies first leaves it to another.
    List<RewardModels.Item> items =
        request.getItemsList().stream()
            .map(i -> new RewardModels.Item(i.getPrompt(), i.getResponse()))
            .toList();
    return batcher
        .submit(request.getRewardModel(), items)
        .handle(
            (scores, error) -> {
              if (error != null) {
                Throwable cause = error.getCause() != null ? error.getCause() : error;
                return reply.clearScores().setError("scoring failed: " + cause.getMessage());
              }
              for (double score : scores) {
                reply.addScores(score);
              }
              return reply;
            })
        .thenCompose(built -> publisher.publish(replies, built.build()));
  }
}
