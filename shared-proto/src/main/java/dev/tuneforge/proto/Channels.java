package dev.tuneforge.proto;

/**
 * SmallRye Reactive Messaging channel names. A service reads {@code *_IN} channels and writes
 * {@code *_OUT} channels; each channel's {@code topic} property names the topic in {@link Topics}.
 * Incoming and outgoing names differ so one application may both read and write a topic.
 */
public final class Channels {
  public static final String TRAINING_REQUESTS_IN = "training-requests-in";
  public static final String TRAINING_REQUESTS_OUT = "training-requests-out";
  public static final String DATASETS_PREPARED_IN = "datasets-prepared-in";
  public static final String DATASETS_PREPARED_OUT = "datasets-prepared-out";
  public static final String TRAINING_PROGRESS_IN = "training-progress-in";
  public static final String TRAINING_PROGRESS_OUT = "training-progress-out";
  public static final String CHECKPOINTS_SAVED_IN = "checkpoints-saved-in";
  public static final String CHECKPOINTS_SAVED_OUT = "checkpoints-saved-out";
  public static final String REWARD_REQUESTS_IN = "reward-requests-in";
  public static final String REWARD_REQUESTS_OUT = "reward-requests-out";
  public static final String REWARD_SCORES_IN = "reward-scores-in";
  public static final String REWARD_SCORES_OUT = "reward-scores-out";
  public static final String EVALS_COMPLETED_IN = "evals-completed-in";
  public static final String EVALS_COMPLETED_OUT = "evals-completed-out";
  public static final String JOBS_STATUS_IN = "jobs-status-in";
  public static final String JOBS_STATUS_OUT = "jobs-status-out";
  public static final String JOBS_CONTROL_IN = "jobs-control-in";
  public static final String JOBS_CONTROL_OUT = "jobs-control-out";

  private Channels() {}
}
