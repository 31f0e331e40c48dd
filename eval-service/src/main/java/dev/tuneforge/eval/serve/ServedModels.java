package dev.tuneforge.eval.serve;

import dev.tuneforge.llm.adapter.PeftLora;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.LocalCopies;
import dev.tuneforge.platform.storage.ObjectStore;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The models served, loaded on first use and kept (least recently used first out, at most {@code
 * tuneforge.serving.max-loaded}). A name is a base model in the bucket ({@code models/{name}/}) or
 * a fine-tuned model as OpenAI names it, {@code ft:{base}:{tenant}:{suffix}:{job-id}} (the suffix
 * may be empty): the base plus the job's final PEFT adapter, or the job's full model, from {@code
 * jobs/{id}/final/}. A fine-tuned model chats with the template its job trained with.
 */
@ApplicationScoped
public class ServedModels {
  private static final Pattern FINE_TUNED =
      Pattern.compile("ft:([^:]+):([^:]*):([A-Za-z0-9_-]*):([A-Za-z0-9._-]+)");

  /** A loaded model; {@link #lock} serialises generation on it. */
  public record Served(
      String name, LlamaModel model, Tokenizer tokenizer, ChatTemplate template, Object lock) {}

  /** Thrown for a model name that is not in the bucket. */
  public static final class UnknownModel extends RuntimeException {
    UnknownModel(String message) {
      super(message);
    }
  }

  private final ObjectStore store;
  private final Artifacts artifacts;
  private final Path workDir;
  private final int maxLoaded;
  private final LinkedHashMap<String, Served> loaded = new LinkedHashMap<>(16, 0.75f, true);

  ServedModels(
      ObjectStore store,
      Artifacts artifacts,
      dev.tuneforge.eval.config.EvalConfig eval,
      dev.tuneforge.eval.config.ServingConfig serving) {
    this.store = store;
    this.artifacts = artifacts;
    this.workDir = Path.of(eval.workDir()).resolve("serving");
    this.maxLoaded = Math.max(1, serving.maxLoaded());
  }

  /** The fine-tuned model name of a job, as the gateway reports it. */
  public static String fineTunedName(String base, String tenant, String jobId) {
    return fineTunedName(base, tenant, "", jobId);
  }

  /** As OpenAI names it with the job's suffix: {@code ft:{base}:{tenant}:{suffix}:{job-id}}. */
  public static String fineTunedName(String base, String tenant, String suffix, String jobId) {
    return "ft:" + base + ":" + tenant + ":" + suffix + ":" + jobId;
  }

  /** The tenant named in a fine-tuned model name, or empty for a base model. */
  public static Optional<String> tenantOf(String name) {
    Matcher m = FINE_TUNED.matcher(name);
    return m.matches() ? Optional.of(m.group(2)) : Optional.empty();
  }

  /** The base model of a name: itself, or the base of a fine-tuned name. */
  public static String baseOf(String name) {
    Matcher m = FINE_TUNED.matcher(name);
    return m.matches() ? m.group(1) : name;
  }

  public synchronized Served get(String name) {
    Served served = loaded.get(name);
    if (served != null) {
      return served;
    }
    served = load(name);
    loaded.put(name, served);
    while (loaded.size() > maxLoaded) {
      Map.Entry<String, Served> eldest = loaded.entrySet().iterator().next();
      loaded.remove(eldest.getKey());
      synchronized (eldest.getValue().lock()) {
        eldest.getValue().model().close();
        eldest.getValue().tokenizer().close();
      }
    }
    return served;
  }

  private Served load(String name) {
    Matcher m = FINE_TUNED.matcher(name);
    String base = m.matches() ? m.group(1) : name;
    if (!base.matches("[A-Za-z0-9._-]+")
        || store.stat("models/" + base + "/config.json").isEmpty()) {
      throw new UnknownModel(
          "The model `" + name + "` does not exist: no base model models/" + base + "/ in storage");
    }
    Path baseDir =
        LocalCopies.copyPrefix(
            store, "models/" + base + "/", workDir.resolve("models").resolve(base));
    Tokenizer tokenizer = Tokenizer.load(baseDir);
    Optional<String> builtIn = Optional.empty();
    LlamaModel model;
    if (!m.matches()) {
      model = LlamaModel.loadForInference(baseDir, Compute.CPU_FLOAT32);
    } else {
      String jobId = m.group(4);
      String prefix = "jobs/" + jobId + "/final/";
      if (artifacts.manifest(prefix).isEmpty()) {
        tokenizer.close();
        throw new UnknownModel(
            "The model `" + name + "` does not exist: job " + jobId + " has no final result");
      }
      Path dir = workDir.resolve("jobs").resolve(jobId);
      try {
        LocalCopies.delete(dir);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot clear " + dir, e);
      }
      LocalCopies.copyPrefix(store, prefix, dir);
      builtIn =
          artifacts
              .manifest("datasets/" + jobId + "/")
              .map(x -> x.metadata().getOrDefault("chat_template", ""))
              .filter(t -> !t.isEmpty() && !t.startsWith("model:"));
      if (java.nio.file.Files.exists(dir.resolve("adapter_config.json"))) {
        model = PeftLora.loadOnto(baseDir, dir, Compute.CPU_FLOAT32);
      } else {
        model = LlamaModel.loadForInference(dir, Compute.CPU_FLOAT32);
      }
    }
    ChatTemplate template =
        builtIn
            .map(ChatTemplate::builtIn)
            .orElseGet(
                () -> ChatTemplate.fromModel(baseDir, tokenizer.config(), "default").orElse(null));
    return new Served(name, model, tokenizer, template, new Object());
  }

  @PreDestroy
  synchronized void close() {
    loaded
        .values()
        .forEach(
            s -> {
              s.model().close();
              s.tokenizer().close();
            });
    loaded.clear();
  }
}
