package dev.tuneforge.proto;

import java.util.List;

/** Kafka topic names of the TuneForge event flow (see ARCHITECTURE.md, "Events"). */
public final class Topics {
  public static final String TRAINING_REQUESTS = "training.requests";
  public static final String DATASETS_PREPARED = "datasets.prepared";
  public static final String TRAINING_PROGRESS = "training.progress";
  public static final String CHECKPOINTS_SAVED = "checkpoints.saved";
  public static final String REWARD_REQUESTS = "reward.requests";
  public static final String REWARD_SCORES = "reward.scores";
  public static final String EVALS_COMPLETED = "evals.completed";
  public static final String JOBS_STATUS = "jobs.status";
  public static final String JOBS_CONTROL = "jobs.control";

  /** Suffix of the dead-letter topic of every consumed topic. */
  public static final String DLQ_SUFFIX = ".dlq";

  /** Every event topic, in flow order. */
  public static final List<String> ALL =
      List.of(
          TRAINING_REQUESTS,
          DATASETS_PREPARED,
          TRAINING_PROGRESS,
          CHECKPOINTS_SAVED,
          REWARD_REQUESTS,
          REWARD_SCORES,
          EVALS_COMPLETED,
          JOBS_STATUS,
          JOBS_CONTROL);

  private Topics() {}

  /** The dead-letter topic of {@code topic}, e.g. {@code training.requests.dlq}. */
  public static String dlq(String topic) {
    return topic + DLQ_SUFFIX;
  }
}
