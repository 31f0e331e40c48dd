package dev.tuneforge.proto;

import com.google.protobuf.Message;
import dev.tuneforge.proto.v1.CheckpointSaved;
import dev.tuneforge.proto.v1.DatasetPrepared;
import dev.tuneforge.proto.v1.EvalCompleted;
import dev.tuneforge.proto.v1.JobCancelRequested;
import dev.tuneforge.proto.v1.JobStatusChanged;
import dev.tuneforge.proto.v1.RewardRequest;
import dev.tuneforge.proto.v1.RewardScores;
import dev.tuneforge.proto.v1.TrainingProgress;
import dev.tuneforge.proto.v1.TrainingRequested;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Every event of the platform with its topic, CloudEvents type and record key. The key keeps all
 * events of one job (or one reward exchange) ordered on one partition.
 */
public enum EventType {
  TRAINING_REQUESTED(
      TrainingRequested.class,
      TrainingRequested.getDefaultInstance(),
      Topics.TRAINING_REQUESTS,
      m -> ((TrainingRequested) m).getSpec().getJobId()),
  DATASET_PREPARED(
      DatasetPrepared.class,
      DatasetPrepared.getDefaultInstance(),
      Topics.DATASETS_PREPARED,
      m -> ((DatasetPrepared) m).getJobId()),
  TRAINING_PROGRESS(
      TrainingProgress.class,
      TrainingProgress.getDefaultInstance(),
      Topics.TRAINING_PROGRESS,
      m -> ((TrainingProgress) m).getJobId()),
  CHECKPOINT_SAVED(
      CheckpointSaved.class,
      CheckpointSaved.getDefaultInstance(),
      Topics.CHECKPOINTS_SAVED,
      m -> ((CheckpointSaved) m).getJobId()),
  REWARD_REQUEST(
      RewardRequest.class,
      RewardRequest.getDefaultInstance(),
      Topics.REWARD_REQUESTS,
      m -> ((RewardRequest) m).getCorrelationId()),
  REWARD_SCORES(
      RewardScores.class,
      RewardScores.getDefaultInstance(),
      Topics.REWARD_SCORES,
      m -> ((RewardScores) m).getCorrelationId()),
  EVAL_COMPLETED(
      EvalCompleted.class,
      EvalCompleted.getDefaultInstance(),
      Topics.EVALS_COMPLETED,
      m -> ((EvalCompleted) m).getJobId()),
  JOB_STATUS_CHANGED(
      JobStatusChanged.class,
      JobStatusChanged.getDefaultInstance(),
      Topics.JOBS_STATUS,
      m -> ((JobStatusChanged) m).getJobId()),
  JOB_CANCEL_REQUESTED(
      JobCancelRequested.class,
      JobCancelRequested.getDefaultInstance(),
      Topics.JOBS_CONTROL,
      m -> ((JobCancelRequested) m).getJobId());

  /** Prefix of every {@code ce_type}; the message name and a version follow. */
  public static final String CE_TYPE_PREFIX = "dev.tuneforge.";

  private final Class<? extends Message> messageClass;
  private final Message defaultInstance;
  private final String topic;
  private final Function<Message, String> key;

  EventType(
      Class<? extends Message> messageClass,
      Message defaultInstance,
      String topic,
      Function<Message, String> key) {
    this.messageClass = messageClass;
    this.defaultInstance = defaultInstance;
    this.topic = topic;
    this.key = key;
  }

  public Class<? extends Message> messageClass() {
    return messageClass;
  }

  /** An empty instance, used to get a builder for parsing. */
  public Message defaultInstance() {
    return defaultInstance;
  }

  public String topic() {
    return topic;
  }

  /** The CloudEvents type, e.g. {@code dev.tuneforge.TrainingRequested.v1}. */
  public String ceType() {
    return CE_TYPE_PREFIX + messageClass.getSimpleName() + ".v1";
  }

  /** The Kafka record key of {@code event}: its job id or correlation id. */
  public String keyOf(Message event) {
    return key.apply(event);
  }

  /** The type of an event message. */
  public static EventType of(Message event) {
    return ofClass(event.getClass());
  }

  /** The type of an event class; unknown classes are refused by name. */
  public static EventType ofClass(Class<?> messageClass) {
    return Arrays.stream(values())
        .filter(t -> t.messageClass.equals(messageClass))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    messageClass.getName() + " is not a TuneForge event type"));
  }

  /** The type named by a {@code ce_type} header; unknown types are refused by name. */
  public static EventType ofCeType(String ceType) {
    return Arrays.stream(values())
        .filter(t -> t.ceType().equals(ceType))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "ce_type \""
                        + ceType
                        + "\" is not a TuneForge event type; expected one of "
                        + Arrays.stream(values()).map(EventType::ceType).toList()));
  }
}
