package dev.tuneforge.llm.run;

import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.recipe.OptimizerSettings;
import dev.tuneforge.llm.recipe.SftSettings;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything one training run needs, typed: what every reader of a job (the command line's JSON
 * spec, trainer-service's job spec) produces and {@link Runs#run} takes.
 *
 * @param model the base model's directory (Hugging Face layout)
 * @param trainFile the training JSONL
 * @param evalFile the evaluation JSONL; null for none
 * @param outputDir checkpoints go to {@code checkpoint-<step>/}, the result to {@code final/}
 * @param device cpu, cuda, cuda:N or auto (see {@link Compute})
 * @param seed data order, initialisation, dropout and sampling
 * @param chatTemplate a built-in template's name; null: the model's own, else none
 * @param parameterization full fine-tuning, or an adapter over a dense or NF4 base
 * @param trainer the schedule: learning rate, batches, steps or epochs, clipping, logging
 * @param optimizer AdamW's betas and epsilon
 * @param data sequence lengths, packing, which tokens train
 * @param save checkpoints
 * @param method SFT, DPO, reward model, PPO or Best-of-N, with its own settings
 */
public record TrainingJob(
    Path model,
    Path trainFile,
    Path evalFile,
    Path outputDir,
    String device,
    long seed,
    String chatTemplate,
    Parameterization parameterization,
    SftSettings trainer,
    OptimizerSettings optimizer,
    DataSettings data,
    SaveSettings save,
    MethodSettings method) {
  public TrainingJob {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(trainFile, "train_file");
    Objects.requireNonNull(outputDir, "output_dir");
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(parameterization, "parameterization");
    Objects.requireNonNull(trainer, "trainer");
    Objects.requireNonNull(optimizer, "optimizer");
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(save, "save");
    Objects.requireNonNull(method, "method");
    new Compute(device, "float32"); // the device's rules, by name, before anything loads
    refuseUnsupported(parameterization, method, data);
  }

  /** The combinations no method runs, refused by name before anything loads. */
  private static void refuseUnsupported(
      Parameterization parameterization, MethodSettings method, DataSettings data) {
    boolean generation =
        method instanceof MethodSettings.SelfInstructData
            || method instanceof MethodSettings.ConstitutionalAiData;
    if (generation && !(parameterization instanceof Parameterization.Full)) {
      throw new IllegalArgumentException(
          "data generation writes with the base model and trains nothing; leave the adapter unset");
    }
    if (!(parameterization instanceof Parameterization.Adapted adapted)) {
      return;
    }
    String peft = adapted.adapter().peftType();
    boolean virtual = peft.equals("PROMPT_TUNING") || peft.equals("PREFIX_TUNING");
    String name = peft.toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    boolean sft = method instanceof MethodSettings.Sft || method instanceof MethodSettings.BestOfN;
    if (virtual && sft && data.packing()) {
      throw new IllegalArgumentException(
          "packing is not available with "
              + name
              + ": each packed sequence would need its own virtual tokens; set packing false");
    }
  }

  /** Whether the result is an adapter (else every weight trained). */
  public boolean adapted() {
    return parameterization instanceof Parameterization.Adapted;
  }

  /** Where the run computes, in float32 (fp16 runs ask for their own). */
  public Compute compute() {
    return new Compute(device, "float32");
  }

  /** The named built-in chat template, else the model's own, else none. */
  public ChatTemplate template(Tokenizer tokenizer) {
    return chatTemplate != null
        ? ChatTemplate.builtIn(chatTemplate)
        : ChatTemplate.fromModel(model, tokenizer.config(), "default").orElse(null);
  }

  /** This job on other training data (Best-of-N's SFT on the best samples) with {@code method}. */
  public TrainingJob with(Path otherTrainFile, MethodSettings otherMethod) {
    return new TrainingJob(
        model,
        otherTrainFile,
        evalFile,
        outputDir,
        device,
        seed,
        chatTemplate,
        parameterization,
        trainer,
        optimizer,
        data,
        save,
        otherMethod);
  }
}
