package dev.tuneforge.data.prepare;

/**
 * How a dataset is prepared.
 *
 * @param kind the declared kind, or null to detect it from the first valid record
 * @param maxSeqLength records longer than this (in tokens, as trained) are over-length
 * @param invalidRecords FAIL (default): any structural problem fails the dataset, listing the first
 *     {@code maxReported}; DROP: such records are dropped and counted
 * @param overLength DROP (default): over-length records are dropped and counted; FAIL: they fail it
 * @param deduplicate drop exact duplicates (after normalisation)
 * @param nearDuplicateThreshold MinHash Jaccard threshold for near duplicates; 0 turns it off
 * @param validationRatio share held out for validation when no validation file is given
 * @param testRatio share held out for the test split
 * @param stratifyBy a label field to split by (each label split in the same ratios), or null
 */
public record PreparationOptions(
    DatasetKind kind,
    int maxSeqLength,
    Policy invalidRecords,
    Policy overLength,
    int maxReported,
    boolean deduplicate,
    double nearDuplicateThreshold,
    double validationRatio,
    double testRatio,
    String stratifyBy,
    long seed) {
  /** What happens to a record that fails a rule. */
  public enum Policy {
    FAIL,
    DROP
  }

  public PreparationOptions {
    if (maxSeqLength < 2) {
      throw new IllegalArgumentException("max_seq_length must be >= 2 but was " + maxSeqLength);
    }
    if (!(validationRatio >= 0) || !(testRatio >= 0) || validationRatio + testRatio >= 1) {
      throw new IllegalArgumentException(
          "validation_split ("
              + validationRatio
              + ") and test_split ("
              + testRatio
              + ") must be >= 0 and leave a training split");
    }
    if (!(nearDuplicateThreshold >= 0 && nearDuplicateThreshold <= 1)) {
      throw new IllegalArgumentException(
          "near_duplicate_threshold must be in [0, 1] but was " + nearDuplicateThreshold);
    }
    if (maxReported < 1) {
      throw new IllegalArgumentException("max reported problems must be >= 1");
    }
  }

  /** Detect the kind; 0.8/0.1/0.1 splits; fail on invalid records, drop over-length ones. */
  public static PreparationOptions defaults(int maxSeqLength, long seed) {
    return new PreparationOptions(
        null, maxSeqLength, Policy.FAIL, Policy.DROP, 100, true, 0, 0.1, 0.1, null, seed);
  }

  public PreparationOptions withKind(DatasetKind declared) {
    return new PreparationOptions(
        declared,
        maxSeqLength,
        invalidRecords,
        overLength,
        maxReported,
        deduplicate,
        nearDuplicateThreshold,
        validationRatio,
        testRatio,
        stratifyBy,
        seed);
  }

  public PreparationOptions withPolicies(Policy invalid, Policy over) {
    return new PreparationOptions(
        kind,
        maxSeqLength,
        invalid,
        over,
        maxReported,
        deduplicate,
        nearDuplicateThreshold,
        validationRatio,
        testRatio,
        stratifyBy,
        seed);
  }

  public PreparationOptions withSplits(double validation, double test, String stratify) {
    return new PreparationOptions(
        kind,
        maxSeqLength,
        invalidRecords,
        overLength,
        maxReported,
        deduplicate,
        nearDuplicateThreshold,
        validation,
        test,
        stratify,
        seed);
  }

  public PreparationOptions withNearDuplicates(double threshold) {
    return new PreparationOptions(
        kind,
        maxSeqLength,
        invalidRecords,
        overLength,
        maxReported,
        deduplicate,
        threshold,
        validationRatio,
        testRatio,
        stratifyBy,
        seed);
  }
}
