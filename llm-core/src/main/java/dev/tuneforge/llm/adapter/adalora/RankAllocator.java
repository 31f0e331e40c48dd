package dev.tuneforge.llm.adapter.adalora;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdaLoRA's budget allocation, as PEFT's RankAllocator computes it. Each step before the final
 * phase, every tensor's importance {@code |p * grad|} is smoothed: {@code I = beta1 I + (1 - beta1)
 * |p g|}, its uncertainty {@code U = beta2 U + (1 - beta2) |(|p g|) - I|}. A rank's score is its
 * singular value's {@code I * U} plus the means of its row of A and column of B. The budget (the
 * number of ranks kept over all modules) is the initial one for {@code tinit} steps, falls as
 * {@code (init - target) (1 - (t - tinit) / (T - tfinal - tinit))^3 + target}, and is the target
 * from {@code T - tfinal} on; every {@code deltaT} steps the lowest-scoring ranks' singular values
 * are set to zero, and the ranks kept at {@code T - tfinal} are the final rank_pattern. Works on
 * float arrays keyed by PEFT's tensor names (module + ".lora_A", ".lora_E", ".lora_B").
 */
public final class RankAllocator {
  private final AdaLoraSettings settings;
  private final long totalStep;
  private final List<String> modules;
  private final int initBudget;
  private final int targetBudget;
  private final Map<String, float[]> expAvgIpt = new LinkedHashMap<>();
  private final Map<String, float[]> expAvgUnc = new LinkedHashMap<>();
  private Map<String, List<Boolean>> rankPattern = Map.of();

  /**
   * @param modules the adapted modules' PEFT names (without the ".lora_X" suffix)
   * @param totalStep the run's steps when the settings leave total_step unset
   */
  public RankAllocator(AdaLoraSettings settings, List<String> modules, long totalStep) {
    this.settings = settings;
    this.totalStep = settings.totalStep() > 0 ? settings.totalStep() : totalStep;
    if (this.totalStep <= settings.tinit() + settings.tfinal()) {
      throw new IllegalArgumentException(
          "AdaLoRA's tinit "
              + settings.tinit()
              + " + tfinal "
              + settings.tfinal()
              + " leave no steps of the run's "
              + this.totalStep
              + " for the budget to fall");
    }
    this.modules = List.copyOf(modules);
    this.initBudget = settings.initR() * modules.size();
    this.targetBudget = settings.targetR() * modules.size();
  }

  public long totalStep() {
    return totalStep;
  }

  /** The budget at {@code step} and whether ranks are masked then (PEFT's budget_schedule). */
  public record Budget(int budget, boolean mask) {}

  public Budget budget(long step) {
    if (step <= settings.tinit()) {
      return new Budget(initBudget, false);
    }
    if (step > totalStep - settings.tfinal()) {
      return new Budget(targetBudget, true);
    }
    double coefficient =
        1 - (double) (step - settings.tinit()) / (totalStep - settings.tfinal() - settings.tinit());
    int budget = (int) ((initBudget - targetBudget) * Math.pow(coefficient, 3) + targetBudget);
    return new Budget(budget, step % settings.deltaT() == 0);
  }

  /**
   * One step's allocation, after the optimizer step (PEFT's update_and_allocate): {@code values}
   * the tensors as updated (lora_E changed in place where ranks are masked), {@code gradients} this
   * step's gradients. Returns the rank pattern when it changed, else null.
   */
  public Map<String, List<Boolean>> step(
      long step, Map<String, float[]> values, Map<String, float[]> gradients) {
    long last = totalStep - settings.tfinal();
    if (step < last) {
      updateImportance(values, gradients);
      Budget budget = budget(step);
      if (budget.mask()) {
        rankPattern = mask(values, budget.budget());
        return rankPattern;
      }
      return null;
    }
    if (step == last) {
      rankPattern = mask(values, budget(step).budget());
      expAvgIpt.clear();
      expAvgUnc.clear();
      return rankPattern;
    }
    // The final phase: the pattern fixed at T - tfinal holds.
    for (String module : modules) {
      List<Boolean> kept = rankPattern.get(module + ".lora_E");
      float[] e = values.get(module + ".lora_E");
      for (int i = 0; kept != null && i < e.length; i++) {
        if (!kept.get(i)) {
          e[i] = 0;
        }
      }
    }
    return null;
  }

  public Map<String, List<Boolean>> rankPattern() {
    return rankPattern;
  }

  /**
   * What a resumed run needs to allocate as the uninterrupted one would: the EMAs by tensor name
   * ({@code ipt.<name>}, {@code unc.<name>}) and the pattern so far ({@code pattern.<name>}, 1 for
   * a kept rank).
   */
  public Map<String, float[]> state() {
    Map<String, float[]> state = new LinkedHashMap<>();
    expAvgIpt.forEach((name, values) -> state.put("ipt." + name, values.clone()));
    expAvgUnc.forEach((name, values) -> state.put("unc." + name, values.clone()));
    rankPattern.forEach(
        (name, kept) -> {
          float[] flags = new float[kept.size()];
          for (int i = 0; i < flags.length; i++) {
            flags[i] = kept.get(i) ? 1 : 0;
          }
          state.put("pattern." + name, flags);
        });
    return state;
  }

  /** Restores {@link #state()}. */
  public void restore(Map<String, float[]> state) {
    expAvgIpt.clear();
    expAvgUnc.clear();
    Map<String, List<Boolean>> pattern = new LinkedHashMap<>();
    state.forEach(
        (key, values) -> {
          if (key.startsWith("ipt.")) {
            expAvgIpt.put(key.substring(4), values.clone());
          } else if (key.startsWith("unc.")) {
            expAvgUnc.put(key.substring(4), values.clone());
          } else if (key.startsWith("pattern.")) {
            List<Boolean> kept = new ArrayList<>();
            for (float flag : values) {
              kept.add(flag != 0);
            }
            pattern.put(key.substring(8), List.copyOf(kept));
          }
        });
    rankPattern = pattern;
  }

  private void updateImportance(Map<String, float[]> values, Map<String, float[]> gradients) {
    double b1 = settings.beta1();
    double b2 = settings.beta2();
    for (Map.Entry<String, float[]> entry : values.entrySet()) {
      String name = entry.getKey();
      float[] p = entry.getValue();
      float[] g = gradients.get(name);
      float[] ipt = expAvgIpt.computeIfAbsent(name, n -> new float[p.length]);
      float[] unc = expAvgUnc.computeIfAbsent(name, n -> new float[p.length]);
      for (int i = 0; i < p.length; i++) {
        float now = Math.abs(p[i] * g[i]);
        ipt[i] = (float) (b1 * ipt[i] + (1 - b1) * now);
        unc[i] = (float) (b2 * unc[i] + (1 - b2) * Math.abs(now - ipt[i]));
      }
    }
  }

  private float score(String name, int i) {
    return expAvgIpt.get(name)[i] * expAvgUnc.get(name)[i];
  }

  /** Zeroes the singular values of the lowest-scoring ranks so {@code budget} remain. */
  private Map<String, List<Boolean>> mask(Map<String, float[]> values, int budget) {
    Map<String, float[]> scores = new LinkedHashMap<>();
    List<Float> all = new ArrayList<>();
    for (String module : modules) {
      int rank = values.get(module + ".lora_E").length;
      long in = values.get(module + ".lora_A").length / Math.max(1, rank);
      long out = values.get(module + ".lora_B").length / Math.max(1, rank);
      float[] combined = new float[rank];
      for (int r = 0; r < rank; r++) {
        double a = 0;
        for (int c = 0; c < in; c++) {
          a += score(module + ".lora_A", (int) (r * in + c));
        }
        double b = 0;
        for (int o = 0; o < out; o++) {
          b += score(module + ".lora_B", (int) (o * rank + r));
        }
        // PEFT sums in float32: the singular value's score, then the A row and B column means.
        combined[r] = score(module + ".lora_E", r) + ((float) (a / in) + (float) (b / out));
        all.add(combined[r]);
      }
      scores.put(module, combined);
    }
    float[] sorted = new float[all.size()];
    for (int i = 0; i < sorted.length; i++) {
      sorted[i] = all.get(i);
    }
    Arrays.sort(sorted);
    int k = initBudget - budget; // torch.kthvalue's k, 1-based
    float threshold = sorted[Math.max(0, Math.min(sorted.length, k) - 1)];
    Map<String, List<Boolean>> pattern = new LinkedHashMap<>();
    for (String module : modules) {
      float[] combined = scores.get(module);
      float[] e = values.get(module + ".lora_E");
      List<Boolean> kept = new ArrayList<>();
      for (int r = 0; r < combined.length; r++) {
        boolean keep = k <= 0 || combined[r] > threshold;
        if (!keep) {
          e[r] = 0;
        }
        kept.add(keep);
      }
      pattern.put(module + ".lora_E", List.copyOf(kept));
    }
    return pattern;
  }
}
