package dev.tuneforge.llm.cli;

import dev.tuneforge.llm.data.ChatMessage;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    mixinStandardHelpOptions = true,
    name = "chat",
    description =
        "Chat on standard input through the model's chat template; an empty line or EOF ends.")
final class ChatCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Mixin ModelCommand.ModelOptions model;
  @Mixin SamplingOptions sampling;

  @Option(names = "--system", description = "System prompt.")
  String system;

  @Option(
      names = "--template",
      description =
          "Built-in template to use when the model has none: chatml, llama2, llama3, alpaca.")
  String template;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    try (LlamaModel loaded = model.load();
        Tokenizer tokenizer = model.tokenizer()) {
      ChatTemplate chat = resolveTemplate(tokenizer);
      Map<String, String> special =
          Map.of("bos_token", tokenizer.special().bos(), "eos_token", tokenizer.special().eos());
      Set<Integer> stops = tokenizer.idOf("<|im_end|>").map(Set::of).orElse(Set.of());
      Generator generator = new Generator(loaded, tokenizer);
      List<ChatMessage> history = new ArrayList<>();
      if (system != null) {
        history.add(ChatMessage.system(system));
      }
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      while (true) {
        out.print("user> ");
        out.flush();
        String line = in.readLine();
        if (line == null || line.isBlank()) {
          return 0;
        }
        history.add(ChatMessage.user(line));
        int[] prompt = tokenizer.encodePlain(chat.render(history, true, special));
        out.print("assistant> ");
        Generated reply =
            generator
                .generate(
                    List.of(prompt),
                    sampling.config(loaded.config(), tokenizer, stops),
                    new StreamPrinter(tokenizer, out))
                .get(0);
        out.println();
        history.add(ChatMessage.assistant(reply.text()));
      }
    }
  }

  private ChatTemplate resolveTemplate(Tokenizer tokenizer) {
    if (template != null) {
      return ChatTemplate.builtIn(template);
    }
    return ChatTemplate.fromModel(model.dir, tokenizer.config(), "default")
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    model.dir
                        + " has no chat template; pass --template with one of "
                        + ChatTemplate.BUILT_IN));
  }
}
