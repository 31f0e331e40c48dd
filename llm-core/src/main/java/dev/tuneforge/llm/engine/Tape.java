package dev.tuneforge.llm.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A segmented backward for frozen projections, the way bitsandbytes' 4-bit matmul saves only the
 * quantized weight: libtorch's autograd would keep every dequantized (or up-cast) base weight from
 * the forward to the backward, and DJL has no custom autograd function to stop it. So the graph is
 * cut where a frozen projection reads its input: the input becomes a leaf, the projection runs
 * without a graph, and its output is a leaf too. The backward first runs libtorch's autograd down
 * to those leaves, then walks the records in reverse creation order: a frozen projection turns its
 * output's gradient into its input's ({@code g W}, the weight rebuilt for that moment and freed),
 * and a cut pushes its leaf's gradient into the graph below it. Reverse creation order is a
 * topological order (every consumer of a tensor was recorded after it), so each gradient is
 * complete before it is pushed on, and every part of the graph is traversed once. The gradients
 * equal those of one autograd graph.
 *
 * <p>A tape is open on a thread while {@link Autograd#withGrad} runs with recording on; blocks call
 * {@link #cut} on their projections' inputs and frozen projections call {@link #frozen}. With
 * recording off (evaluation, generation) both are no-ops.
 */
public final class Tape {
  private static final ThreadLocal<Tape> CURRENT = new ThreadLocal<>();

  private sealed interface Record permits Cut, Frozen {}

  /** {@code leaf} is a detached alias of {@code source}; {@code inGraph}: source has a grad_fn. */
  private record Cut(NDArray source, NDArray leaf, boolean inGraph) implements Record {}

  private record Frozen(FrozenProjection projection, NDArray input, NDArray output)
      implements Record {}

  /** A projection whose weight is not trained and is not kept in the graph. */
  public interface FrozenProjection {
    /** {@code y = x W^T + b}, without a graph. */
    NDArray apply(NDArray x);

    /** {@code dL/dx = g W} for {@code g = dL/dy}, without a graph. */
    NDArray inputGradient(NDArray gradOutput);
  }

  private final List<Record> records = new ArrayList<>();
  private NDManager kept; // what the records hold, safe from the blocks' scopes
  private final Map<NDArray, NDArray> leaves = new IdentityHashMap<>(); // caller's view -> leaf

  private Tape() {}

  /** The tape recording on this thread, or null. */
  static Tape current() {
    return JniUtils.isGradMode() ? CURRENT.get() : null;
  }

  /** Opens a tape on this thread unless one is open; returns whether this call opened it. */
  static boolean open() {
    if (CURRENT.get() != null) {
      return false;
    }
    CURRENT.set(new Tape());
    return true;
  }

  static void close() {
    Tape tape = CURRENT.get();
    CURRENT.remove();
    if (tape != null && tape.kept != null) {
      tape.kept.close();
    }
  }

  /** Moves {@code arrays} into the tape's own manager: blocks free their scopes before backward. */
  private void keep(NDArray... arrays) {
    if (kept == null) {
      kept = Torch.engine().newBaseManager(arrays[0].getDevice());
    }
    for (NDArray array : arrays) {
      array.attach(kept);
    }
  }

  /**
   * While recording: a leaf alias of {@code x} that the layers above read instead of {@code x}; its
   * gradient is pushed into {@code x}'s graph by the backward. Otherwise {@code x} itself.
   *
   * @param inGraph whether {@code x} was computed from something that trains (false for the token
   *     embeddings of a frozen embedding matrix: nothing below them needs a gradient)
   */
  public static NDArray cut(NDArray x, boolean inGraph) {
    Tape tape = current();
    if (tape == null) {
      return x;
    }
    NDManager caller = x.getManager();
    NDArray leaf = x.stopGradient();
    leaf.setRequiresGradient(true);
    tape.keep(x, leaf);
    tape.records.add(new Cut(x, leaf, inGraph));
    NDArray view = tape.view(leaf, caller);
    tape.leaves.put(view, leaf);
    return view;
  }

  /**
   * A view of a kept array that lives in {@code caller}, so what the blocks compute from it lands
   * in their own scopes (results attach to their first operand's manager); its gradient flows into
   * the kept array.
   */
  private NDArray view(NDArray kept, NDManager caller) {
    NDArray view = kept.reshape(kept.getShape());
    view.attach(caller);
    return view;
  }

  /** {@link #cut(NDArray, boolean)} of a tensor computed from trained inputs. */
  public static NDArray cut(NDArray x) {
    return cut(x, true);
  }

  /**
   * {@code projection(x)}: while recording, {@code x} must be a leaf made by {@link #cut} and the
   * output is a leaf whose gradient the backward turns into {@code x}'s; otherwise a plain forward.
   */
  public static NDArray frozen(FrozenProjection projection, NDArray x) {
    Tape tape = current();
    if (tape == null) {
      if (JniUtils.isGradMode()) {
        throw new IllegalStateException(
            "a frozen quantized or half-precision projection ran with autograd recording but no"
                + " tape; run training steps inside Autograd.withGrad(true, ...)");
      }
      return projection.apply(x);
    }
    NDArray leaf = tape.leaves.get(x);
    if (leaf == null) {
      throw new IllegalStateException(
          "a frozen projection's input must come from Tape.cut, so its gradient reaches the graph"
              + " below once");
    }
    NDArray y = Autograd.withGrad(false, () -> projection.apply(x));
    // The gradient of y is caught by a leaf of y's shape over a single zero (stride 0): it costs
    // four bytes, where making y itself the leaf would keep every projection's output alive.
    NDArray catcher;
    try (NDArray zero = y.getManager().zeros(new Shape(1), y.getDataType());
        NDArray expanded = zero.broadcast(y.getShape())) {
      catcher = expanded.stopGradient();
    }
    catcher.setRequiresGradient(true);
    tape.keep(catcher);
    tape.records.add(new Frozen(projection, leaf, catcher));
    NDArray output = y.add(catcher);
    y.close();
    return output;
  }

  /**
   * Backward from {@code output} seeded with {@code gradient}: libtorch's autograd down to the
   * tape's leaves, then the records in reverse order. Parameters' gradients accumulate as usual.
   */
  void backward(NDArray output, NDArray gradient) {
    JniUtils.backward((PtNDArray) output, (PtNDArray) gradient, false, false);
    propagate();
  }

  /**
   * Walks the records in reverse creation order once their leaves' gradients have been seeded (by
   * {@link #backward}, or by plain backward calls that end at tape leaves, as a chunked loss does).
   */
  void propagate() {
    Map<NDArray, NDArray> pending = new IdentityHashMap<>();
    boolean recording = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      for (int i = records.size() - 1; i >= 0; i--) {
        Record record = records.get(i);
        if (record instanceof Frozen frozen) {
          try (NDArray g = frozen.output().getGradient()) {
            pending.merge(frozen.input(), frozen.projection().inputGradient(g), Tape::sum);
          }
          frozen.output().close(); // frees the output and its gradient now, not at the step's end
        } else if (record instanceof Cut cut) {
          NDArray gradient = cut.leaf().getGradient();
          NDArray extra = pending.remove(cut.leaf());
          if (extra != null) {
            gradient = sum(gradient, extra);
          }
          if (cut.inGraph()) {
            JniUtils.setGradMode(true);
            JniUtils.backward((PtNDArray) cut.source(), (PtNDArray) gradient, false, false);
            JniUtils.setGradMode(false);
          }
          cut.source().close();
          gradient.close();
          cut.leaf().close();
        }
      }
    } finally {
      JniUtils.setGradMode(recording);
      records.clear();
      leaves.clear();
    }
  }

  /** {@code a + b}, both freed. */
  private static NDArray sum(NDArray a, NDArray b) {
    NDArray total = a.add(b);
    a.close();
    b.close();
    return total;
  }
}
