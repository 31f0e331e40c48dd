package dev.tuneforge.reward.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.proto.SampleEvents;
import dev.tuneforge.proto.Topics;
import dev.tuneforge.proto.v1.RewardScores;
import dev.tuneforge.testing.ChannelContract;
import dev.tuneforge.testing.RealStackResource;
import dev.tuneforge.testing.TestKafka;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.UUID;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
class RewardRequestsConsumerTest {
  private final TestKafka kafka = TestKafka.shared();

  @Test
  void requestForAModelNotServedGetsAnErrorReplyWithItsCorrelationId() {
    String correlationId = "corr-" + UUID.randomUUID();
    kafka.publish(SampleEvents.rewardRequest(correlationId));

    RewardScores reply =
        kafka
            .awaitEvents(RewardScores.class, 1, s -> correlationId.equals(s.getCorrelationId()))
            .get(0);
    assertEquals("trainer-service", reply.getReplyTo());
    assertEquals(0, reply.getScoresCount());
    assertTrue(reply.getError().contains("\"helpfulness-rm\" is not loaded"), reply.getError());
    ChannelContract.assertReadyAndCounting(Topics.REWARD_REQUESTS);
  }

  @Test
  void malformedRequestGoesToDeadLetterTopicWithTheReason() {
    ChannelContract.assertDeadLettered(
        kafka,
        Topics.REWARD_REQUESTS,
        "{\"correlation_id\":\"c\",\"reward_model\":\"rm\",\"items\":[]}",
        "RewardRequest.items is required but was empty");
  }

  @Test
  void anInvalidRequestIsAnsweredWithTheReasonAndDeadLettered() {
    String correlationId = "bad-" + UUID.randomUUID();
    String value =
        "{\"correlation_id\":\""
            + correlationId
            + "\",\"reward_model\":\"rm\",\"reply_to\":\"trainer-service\",\"items\":[],"
            + "\"batch\":3}";
    ChannelContract.assertDeadLettered(
        kafka, Topics.REWARD_REQUESTS, value, "Cannot find field: batch");
    RewardScores reply =
        kafka
            .awaitEvents(RewardScores.class, 1, s -> correlationId.equals(s.getCorrelationId()))
            .get(0);
    assertEquals("trainer-service", reply.getReplyTo());
    assertEquals("rm", reply.getRewardModel());
    assertEquals(0, reply.getScoresCount());
    assertTrue(
        reply.getError().startsWith("the reward request was refused: ")
            && reply.getError().contains("batch"),
        reply.getError());
  }

  @Test
  void sameCeIdDeliveredTwiceIsHandledOnce() {
    ChannelContract.assertDuplicateHandledOnce(
        kafka, SampleEvents::rewardRequest, RewardScores.class, RewardScores::getCorrelationId);
  }
}
