package dev.tuneforge.llm.adapter;

import dev.tuneforge.llm.tokenizer.Tokenizer;

/**
 * A PEFT method's configuration, as a training job carries it: a fresh adapter is made from it once
 * the model's tokenizer is known. Each method's settings record implements it (LoRA and DoRA, IA3,
 * prompt tuning, prefix tuning, AdaLoRA); a new PEFT method adds one (see CONTRIBUTING.md).
 */
public interface AdapterSettings {
  /** PEFT's {@code peft_type} of the adapters these settings make. */
  String peftType();

  /**
   * A fresh, untrained adapter.
   *
   * @param tokenizer the base model's (prompt tuning's TEXT initialisation encodes with it)
   * @param seed its random initialisation
   */
  Adapter create(Tokenizer tokenizer, long seed);
}
