package dev.tuneforge.trainer.reward;

import dev.tuneforge.llm.rl.TextReward;
import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.platform.messaging.InboundEvents;
import dev.tuneforge.platform.messaging.Received;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.RewardItem;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.RewardScores;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Scores through reward-service by Kafka request/reply. A scoring call is cut into requests of at
 * most {@code batch-size} items, all sent at once on {@code reward.requests}, each with its own
 * correlation id and this replica's id as {@code reply_to}; replies on {@code reward.scores} (read
 * by every trainer replica in a group of its own) are matched by correlation id. A request without
 * a reply within {@code timeout} is sent again with the same id, up to {@code attempts} times; a
 * duplicate reply (a redelivered request scored twice) is ignored. A reply with an error fails the
 * call with reward-service's reason.
 */
@ApplicationScoped
public class RemoteRewards {
  private static final Logger LOG = Logger.getLogger(RemoteRewards.class);

  private final String replica = "trainer-" + UUID.randomUUID();
  private final Map<String, CompletableFuture<RewardScores>> waiting = new ConcurrentHashMap<>();
  private final InboundEvents inbound;
  private final EventPublisher publisher;
  private final Emitter<RewardRequest> requests;
  private final int batchSize;
  private final Duration timeout;
  private final int attempts;

  RemoteRewards(
      InboundEvents inbound,
      EventPublisher publisher,
      @Channel(Channels.REWARD_REQUESTS_OUT) Emitter<RewardRequest> requests,
      dev.tuneforge.trainer.config.TrainerConfig config) {
    int batchSize = config.reward().batchSize();
    int attempts = config.reward().attempts();
    if (batchSize <= 0 || attempts <= 0) {
      throw new IllegalArgumentException(
          "tuneforge.trainer.reward.batch-size and attempts must be > 0 but were "
              + batchSize
              + " and "
              + attempts);
    }
    this.inbound = inbound;
    this.publisher = publisher;
    this.requests = requests;
    this.batchSize = batchSize;
    this.timeout = config.reward().timeout();
    this.attempts = attempts;
  }

  /** Reward model {@code model} of reward-service, for job {@code jobId}. */
  public TextReward of(String jobId, String model) {
    return (prompts, responses) -> score(jobId, model, prompts, responses);
  }

  @Incoming(Channels.REWARD_SCORES_IN)
  public CompletionStage<Void> reply(Message<String> record) {
    return inbound.handle(Channels.REWARD_SCORES_IN, record, RewardScores.class, this::match);
  }

  private CompletionStage<Void> match(Received<RewardScores> received) {
    RewardScores reply = received.event();
    if (replica.equals(reply.getReplyTo())) {
      CompletableFuture<RewardScores> future = waiting.remove(reply.getCorrelationId());
      if (future != null) {
        future.complete(reply);
      }
    }
    return InboundEvents.done();
  }

  double[] score(String jobId, String model, List<String> prompts, List<String> responses) {
    List<RewardRequest> batches = new ArrayList<>();
    for (int from = 0; from < prompts.size(); from += batchSize) {
      RewardRequest.Builder request =
          RewardRequest.newBuilder()
              .setCorrelationId(UUID.randomUUID().toString())
              .setRewardModel(model)
              .setJobId(jobId)
              .setReplyTo(replica);
      for (int i = from; i < Math.min(prompts.size(), from + batchSize); i++) {
        request.addItems(
            RewardItem.newBuilder().setPrompt(prompts.get(i)).setResponse(responses.get(i)));
      }
      batches.add(request.build());
    }
    List<CompletableFuture<RewardScores>> replies = new ArrayList<>();
    for (RewardRequest request : batches) {
      replies.add(send(request));
    }
    double[] scores = new double[prompts.size()];
    int at = 0;
    for (int b = 0; b < batches.size(); b++) {
      RewardRequest request = batches.get(b);
      RewardScores reply = await(request, replies.get(b));
      if (!reply.getError().isEmpty()) {
        throw new IllegalStateException(
            "reward-service could not score with \"" + model + "\": " + reply.getError());
      }
      if (reply.getScoresCount() != request.getItemsCount()) {
        throw new IllegalStateException(
            "reward-service returned "
                + reply.getScoresCount()
                + " scores for "
                + request.getItemsCount()
                + " items (request "
                + request.getCorrelationId()
                + ")");
      }
      for (double score : reply.getScoresList()) {
        scores[at++] = score;
      }
    }
    return scores;
  }

  private CompletableFuture<RewardScores> send(RewardRequest request) {
    CompletableFuture<RewardScores> reply =
        waiting.computeIfAbsent(request.getCorrelationId(), id -> new CompletableFuture<>());
    try {
      publisher.publish(requests, request).toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while sending a reward request", e);
    } catch (ExecutionException | TimeoutException e) {
      waiting.remove(request.getCorrelationId());
      throw new IllegalStateException("cannot send reward request to reward.requests", e);
    }
    return reply;
  }

  /** Waits for the reply, sending the request again on each timeout. */
  private RewardScores await(RewardRequest request, CompletableFuture<RewardScores> reply) {
    for (int attempt = 1; ; attempt++) {
      try {
        return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        if (attempt >= attempts) {
          waiting.remove(request.getCorrelationId());
          throw new IllegalStateException(
              "reward-service did not answer request "
                  + request.getCorrelationId()
                  + " ("
                  + request.getItemsCount()
                  + " items, model \""
                  + request.getRewardModel()
                  + "\") within "
                  + timeout.toSeconds()
                  + " s, "
                  + attempts
                  + " attempts; is a reward-service replica serving it running?");
        }
        LOG.warnf(
            "reward request %s unanswered after %s; sending it again (attempt %d of %d)",
            request.getCorrelationId(), timeout, attempt + 1, attempts);
        reply = send(request);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for rewards", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException("reward request failed", e.getCause());
      }
    }
  }
}
