package dev.tuneforge.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.tuneforge.proto.v1.JobSpec;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * No field of the job spec is dropped without a word: every field of every message reachable from
 * JobSpec says who acts on it, and each field nobody acts on yet is refused by name when set.
 */
class JobSpecFieldsTest {
  static void walk(Descriptor type, Set<String> fields, Set<String> seen) {
    if (!seen.add(type.getFullName())) {
      return;
    }
    for (FieldDescriptor field : type.getFields()) {
      fields.add(type.getName() + "." + field.getName());
      if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
          && !field.isMapField()
          && field.getMessageType().getFullName().startsWith("tuneforge.")) {
        walk(field.getMessageType(), fields, seen);
      }
    }
  }

  @Test
  void everyFieldSaysWhoActsOnIt() {
    Set<String> fields = new TreeSet<>();
    walk(JobSpec.getDescriptor(), fields, new java.util.HashSet<>());
    Set<String> unclassified = new TreeSet<>(fields);
    unclassified.removeAll(JobSpecFields.USES.keySet());
    assertEquals(Set.of(), unclassified, "fields with no entry in JobSpecFields.USES");
    Set<String> stale = new TreeSet<>(JobSpecFields.USES.keySet());
    stale.removeAll(fields);
    assertEquals(Set.of(), stale, "entries for fields the spec no longer has");
    assertTrue(fields.size() > 120, "walked " + fields.size() + " fields");
  }

  /** Each refused field, set to a plausible value on a valid spec, is refused naming its path. */
  @Test
  void everyRefusedFieldIsRefusedByNameWhenSet() {
    JobSpec valid = SampleEvents.jobSpec("fields-job");
    JobSpecRules.check(valid);
    int checked = 0;
    for (String key : JobSpecFields.REFUSED.keySet()) {
      assertEquals(JobSpecFields.Use.REFUSED, JobSpecFields.USES.get(key), key);
      JobSpec spec = withField(valid, key);
      JobSpecRules.Violation violation =
          assertThrows(JobSpecRules.Violation.class, () -> JobSpecRules.check(spec), key);
      String name = key.substring(key.indexOf('.') + 1);
      assertTrue(violation.path().endsWith(name), key + ": " + violation.path());
      assertTrue(violation.getMessage().contains("is not supported"), violation.getMessage());
      checked++;
    }
    assertEquals(6, checked);
    // Fields inside a refused message are refused with it: no REFUSED field escapes both lists.
    for (var entry : JobSpecFields.USES.entrySet()) {
      if (entry.getValue() == JobSpecFields.Use.REFUSED
          && !JobSpecFields.REFUSED.containsKey(entry.getKey())) {
        assertTrue(
            entry.getKey().startsWith("AdaLoraConfig."),
            entry.getKey() + " is refused only as part of a refused message");
      }
    }
  }

  /** {@code valid} with the field {@code Message.field} set somewhere in it. */
  static JobSpec withField(JobSpec valid, String key) {
    JobSpec.Builder spec = valid.toBuilder();
    switch (key) {
      case "JobSpec.preset" -> spec.setPreset("qlora-small");
      case "Hyperparameters.per_device_eval_batch_size" ->
          spec.getHyperparametersBuilder().setPerDeviceEvalBatchSize(16);
      case "DpoConfig.reference_free" -> spec.getDpoBuilder().setReferenceFree(true);
      case "DpoConfig.precompute_ref_log_probs" ->
          spec.getDpoBuilder().setPrecomputeRefLogProbs(true);
      case "RewardModelConfig.max_length" -> spec.getRewardModelBuilder().setMaxLength(512);
      case "ComputeConfig.num_threads" -> spec.getComputeBuilder().setNumThreads(4);
      default -> throw new IllegalArgumentException("no sample value for " + key);
    }
    Message built = spec.build();
    return (JobSpec) built;
  }
}
