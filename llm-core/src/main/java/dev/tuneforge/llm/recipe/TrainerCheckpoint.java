package dev.tuneforge.llm.recipe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.tuneforge.llm.checkpoint.Safetensors;
import dev.tuneforge.llm.engine.Autograd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A resumable training checkpoint, {@code checkpoint-<step>/} as the Hugging Face Trainer names it:
 * the trained tensors ({@code trainable.safetensors}; PEFT key names for an adapter), the AdamW
 * moments ({@code optimizer.safetensors}) and {@code trainer_state.json} (step, data position, log
 * history). Random state needs no file: data order is derived from (seed, epoch) and dropout is
 * reseeded from (seed, step), so a resumed run replays the uninterrupted one exactly.
 */
public final class TrainerCheckpoint {
  static final String TRAINABLE = "trainable.safetensors";
  static final String OPTIMIZER = "optimizer.safetensors";
  static final String ADAPTER_STATE = "adapter_state.safetensors";
  static final String STATE = "trainer_state.json";
  private static final Gson GSON =
      new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

  private TrainerCheckpoint() {}

  /**
   * Where the run stands: what trainer_state.json holds, including the best evaluation metric and
   * its step (null and 0 before any evaluation). {@code extra} holds what other recipes need to
   * resume (their own log history, a KL controller), or null.
   */
  public record State(
      long globalStep,
      long dataEpoch,
      int dataCursor,
      long seed,
      List<TrainingStep> logHistory,
      Double bestMetric,
      long bestModelStep,
      com.google.gson.JsonObject extra) {
    public State(
        long globalStep,
        long dataEpoch,
        int dataCursor,
        long seed,
        List<TrainingStep> logHistory,
        Double bestMetric,
        long bestModelStep) {
      this(globalStep, dataEpoch, dataCursor, seed, logHistory, bestMetric, bestModelStep, null);
    }
  }

  /**
   * Writes {@code <outputDir>/checkpoint-<step>/} atomically (a temp dir renamed when complete).
   */
  public static Path save(
      Path outputDir,
      State state,
      Map<String, NDArray> trainable,
      Map<String, NDArray> optimizer,
      int totalLimit) {
    return save(outputDir, state, trainable, optimizer, Map.of(), totalLimit);
  }

  /** As above, with the adapter's own training state (AdaLoRA's allocation), when it has one. */
  public static Path save(
      Path outputDir,
      State state,
      Map<String, NDArray> trainable,
      Map<String, NDArray> optimizer,
      Map<String, float[]> adapterState,
      int totalLimit) {
    Path target = outputDir.resolve("checkpoint-" + state.globalStep());
    Path partial = outputDir.resolve(".checkpoint-" + state.globalStep() + ".partial");
    try {
      Files.createDirectories(partial);
      Safetensors.write(partial.resolve(TRAINABLE), trainable, Map.of("format", "pt"));
      Safetensors.write(partial.resolve(OPTIMIZER), optimizer, Map.of("format", "pt"));
      if (!adapterState.isEmpty()) {
        try (NDManager scope = dev.tuneforge.llm.engine.Torch.engine().newBaseManager()) {
          Map<String, NDArray> tensors = new LinkedHashMap<>();
          adapterState.forEach((name, values) -> tensors.put(name, scope.create(values)));
          Safetensors.write(partial.resolve(ADAPTER_STATE), tensors, Map.of("format", "pt"));
        }
      }
      Files.writeString(partial.resolve(STATE), GSON.toJson(state));
      Files.move(partial, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      prune(outputDir, totalLimit);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + target, e);
    }
  }

  /**
   * Saves a checkpoint of a recipe other than SFT when {@code step} is a multiple of save_steps:
   * its resume state goes in {@code extra} (the adapter's own in its file), and the checkpointing's
   * {@code onSaved} sees it.
   */
  public static void saveIfDue(
      SftRecipe.Checkpointing checkpointing,
      long step,
      DataOrder order,
      long seed,
      com.google.gson.JsonObject extra,
      Map<String, NDArray> trainable,
      Map<String, NDArray> optimizer,
      AdapterTraining adapterTraining) {
    if (checkpointing.saveSteps() > 0 && step % checkpointing.saveSteps() == 0) {
      Path saved =
          save(
              checkpointing.outputDir(),
              new State(step, order.epoch(), order.cursor(), seed, List.of(), null, 0, extra),
              trainable,
              optimizer,
              adapterTraining.state(),
              checkpointing.saveTotalLimit());
      checkpointing.onSaved().accept(saved);
    }
  }

  /** Reads trainer_state.json of a checkpoint. */
  public static State state(Path checkpoint) {
    try {
      return GSON.fromJson(Files.readString(checkpoint.resolve(STATE)), State.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + checkpoint.resolve(STATE), e);
    }
  }

  /** Copies the saved trained tensors into {@code trainable}, in place. */
  public static void restoreTrainable(
      Path checkpoint, Map<String, NDArray> trainable, NDManager scope) {
    Map<String, NDArray> saved = read(checkpoint.resolve(TRAINABLE), scope);
    if (!saved.keySet().equals(trainable.keySet())) {
      throw new IllegalArgumentException(
          checkpoint
              + " was saved with other trainable tensors than this run has ("
              + saved.size()
              + " vs "
              + trainable.size()
              + ")");
    }
    Autograd.withGrad(
        false,
        () -> {
          trainable.forEach(
              (name, tensor) ->
                  tensor.set(saved.get(name).toType(tensor.getDataType(), false).toByteBuffer()));
          return null;
        });
  }

  /** The adapter's own training state of a checkpoint; empty when it saved none. */
  public static Map<String, float[]> adapterState(Path checkpoint) {
    Path file = checkpoint.resolve(ADAPTER_STATE);
    if (!Files.exists(file)) {
      return Map.of();
    }
    try (NDManager scope = dev.tuneforge.llm.engine.Torch.engine().newBaseManager()) {
      Map<String, float[]> state = new LinkedHashMap<>();
      read(file, scope).forEach((name, tensor) -> state.put(name, tensor.toFloatArray()));
      return state;
    }
  }

  /** The saved optimizer moments. */
  public static Map<String, NDArray> optimizer(Path checkpoint, NDManager scope) {
    return read(checkpoint.resolve(OPTIMIZER), scope);
  }

  /** The newest complete checkpoint under {@code outputDir}, if any. */
  public static java.util.Optional<Path> latest(Path outputDir) {
    return checkpoints(outputDir).reduce((first, second) -> second);
  }

  private static Map<String, NDArray> read(Path file, NDManager scope) {
    Safetensors.Header header = Safetensors.readHeader(file);
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    for (String name : header.tensors().keySet()) {
      tensors.put(name, Safetensors.read(scope, file, header, name, DataType.FLOAT32));
    }
    return tensors;
  }

  private static Stream<Path> checkpoints(Path outputDir) {
    if (!Files.isDirectory(outputDir)) {
      return Stream.empty();
    }
    try (Stream<Path> entries = Files.list(outputDir)) {
      return entries
          .filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
          .filter(p -> Files.exists(p.resolve(STATE)))
          .sorted(
              Comparator.comparingLong(
                  p ->
                      Long.parseLong(p.getFileName().toString().substring("checkpoint-".length()))))
          .toList()
          .stream();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + outputDir, e);
    }
  }

  private static void prune(Path outputDir, int totalLimit) throws IOException {
    if (totalLimit <= 0) {
      return;
    }
    List<Path> all = checkpoints(outputDir).toList();
    for (Path old : all.subList(0, Math.max(0, all.size() - totalLimit))) {
      try (Stream<Path> files = Files.walk(old)) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(file);
        }
      }
    }
  }
}
