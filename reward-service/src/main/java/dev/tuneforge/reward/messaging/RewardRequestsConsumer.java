package dev.tuneforge.reward.messaging;

import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.InboundEvents;
import dev.tuneforge.platform.messaging.Received;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.RewardScores;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Answers every request on {@code reward.requests} with exactly one {@code reward.scores} reply
 * carrying the same correlation id. A request for a model this replica does not serve gets a reply
 * whose {@code error} says so, so the requester fails fast instead of waiting.
 */
@ApplicationScoped
public class RewardRequestsConsumer {
  private final InboundEvents inbound;
  private final EventPublisher publisher;
  private final Emitter<RewardScores> replies;
  private final dev.tuneforge.reward.model.RewardModels models;
  private final java.util.concurrent.ExecutorService scoring =
      java.util.concurrent.Executors.newSingleThreadExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "reward-scoring");
            thread.setDaemon(true);
            return thread;
          });

  RewardRequestsConsumer(
      InboundEvents inbound,
      EventPublisher publisher,
      @Channel(Channels.REWARD_SCORES_OUT) Emitter<RewardScores> replies,
      dev.tuneforge.reward.model.RewardModels models) {
    this.inbound = inbound;
    this.publisher = publisher;
    this.replies = replies;
    this.models = models;
  }

  @Incoming(Channels.REWARD_REQUESTS_IN)
  public CompletionStage<Void> consume(Message<String> record) {
    return inbound.handle(Channels.REWARD_REQUESTS_IN, record, RewardRequest.class, this::reply);
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
    // Scored off the event loop; the record is acknowledged once the reply is.
    return java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                double[] scores =
                    models.score(
                        request.getRewardModel(),
                        request.getItemsList().stream()
                            .map(
                                i ->
                                    new dev.tuneforge.reward.model.RewardModels.Item(
                                        i.getPrompt(), i.getResponse()))
                            .toList());
                for (double score : scores) {
                  reply.addScores(score);
                }
              } catch (RuntimeException e) {
                reply.clearScores().setError("scoring failed: " + e.getMessage());
              }
              return reply.build();
            },
            scoring)
        .thenCompose(built -> publisher.publish(replies, built));
  }

  @jakarta.annotation.PreDestroy
  void stop() {
    scoring.shutdownNow();
  }
}
