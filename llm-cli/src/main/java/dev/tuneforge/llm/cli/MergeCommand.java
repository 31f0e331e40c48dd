package dev.tuneforge.llm.cli;

import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.model.Projections;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    mixinStandardHelpOptions = true,
    name = "merge",
    description =
        "Fold a PEFT LoRA adapter into its base (W + alpha/r * B A) and write a full Hugging Face"
            + " model directory with the tokenizer files.")
final class MergeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "Base model directory (float weights).")
  Path base;

  @Option(
      names = "--adapter",
      required = true,
      description = "PEFT adapter directory (LoRA or IA3; prompt and prefix tuning do not merge).")
  Path adapterDir;

  @Option(names = "--out", required = true, description = "Directory for the merged model.")
  Path out;

  @Override
  public Integer call() throws Exception {
    try (NDManager staging = Torch.engine().newBaseManager()) {
      dev.tuneforge.llm.adapter.Adapter adapter =
          dev.tuneforge.llm.adapter.PeftAdapters.load(adapterDir, staging);
      if (!adapter.mergeable()) {
        throw new IllegalArgumentException(
            adapterDir
                + " is a "
                + adapter.peftType()
                + " adapter, which cannot be merged: its virtual tokens are extra positions, not a"
                + " change of any weight; load it with --adapter (or peft) instead");
      }
      try (LlamaModel model =
          LlamaModel.load(base, Compute.CPU_FLOAT32, adapter.projections(Projections.DENSE))) {
        adapter.merge();
        model.save(out);
      }
    }
    dev.tuneforge.llm.tokenizer.TokenizerFiles.copy(base, out);
    spec.commandLine().getOut().println("merged " + adapterDir + " into " + base + ": " + out);
    return 0;
  }
}
