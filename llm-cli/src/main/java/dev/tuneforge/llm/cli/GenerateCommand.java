package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    mixinStandardHelpOptions = true,
    name = "generate",
    description = "Continue a prompt, streaming the text as it is generated.")
final class GenerateCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Mixin ModelCommand.ModelOptions model;
  @Mixin SamplingOptions sampling;

  @Option(names = "--prompt", required = true, description = "Text to continue.")
  String prompt;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (LlamaModel loaded = model.load();
        Tokenizer tokenizer = model.tokenizer()) {
      Generator generator = new Generator(loaded, tokenizer);
      out.print(prompt);
      Generated result =
          generator
              .generate(
                  List.of(tokenizer.encode(prompt)),
                  sampling.config(loaded.config(), tokenizer, Set.of()),
                  new StreamPrinter(tokenizer, out))
              .get(0);
      out.println();
      spec.commandLine()
          .getErr()
          .printf("[%d tokens, finish_reason %s]%n", result.tokens().length, result.finishReason());
      return 0;
    }
  }
}
