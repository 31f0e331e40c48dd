package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.adapter.PeftLora;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./tuneforge model}: the model commands of the launcher. */
@Command(
    name = "tuneforge model",
    mixinStandardHelpOptions = true,
    version = "tuneforge 0.1.0",
    description = "Create, inspect, score and run Llama-family models in Hugging Face layout.",
    subcommands = {
      InitTinyCommand.class,
      InitRandomCommand.class,
      InfoCommand.class,
      ScoreCommand.class,
      GenerateCommand.class,
      ChatCommand.class,
      BenchCommand.class,
      TrainCommand.class,
      TrainBenchCommand.class,
      PpoBenchCommand.class,
      MergeCommand.class,
      SynthCommand.class,
      GpuCheckCommand.class
    })
public final class ModelCommand {

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line; failures print one line naming what was wrong. */
  public static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new ModelCommand());
    commandLine.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("tuneforge model: " + e.getMessage());
          return 1;
        });
    return commandLine;
  }

  /** Options shared by the commands that load a model. */
  static final class ModelOptions {
    @Option(names = "--model", required = true, description = "Hugging Face model directory.")
    Path dir;

    @Option(
        names = "--device",
        defaultValue = "cpu",
        description = "cpu or gpu (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(
        names = "--dtype",
        defaultValue = "float32",
        description = "float32 or float16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--adapter", description = "A PEFT LoRA adapter directory to apply.")
    Path adapter;

    LlamaModel load() {
      Compute compute = new Compute(device, dtype);
      if (adapter == null) {
        return LlamaModel.load(dir, compute, LlamaModel.inferenceProjections(dir));
      }
      return PeftLora.loadOnto(dir, adapter, compute);
    }

    Tokenizer tokenizer() {
      return Tokenizer.load(dir);
    }
  }
}
