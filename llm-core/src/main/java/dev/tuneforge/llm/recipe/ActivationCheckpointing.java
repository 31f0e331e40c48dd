package dev.tuneforge.llm.recipe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.engine.Torch;
import dev.tuneforge.llm.loss.ChunkedCrossEntropy;
import dev.tuneforge.llm.model.LlamaModel;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient (activation) checkpointing (Chen et al., 2016): the forward keeps only each layer's
 * input, without a graph; the backward recomputes one layer at a time with its graph and pushes the
 * gradient through it, from the head down to the embedding. Peak activation memory drops from all
 * layers' intermediates to one layer's plus the saved inputs, for about one extra forward of
 * compute. The gradients equal those of the plain backward.
 */
final class ActivationCheckpointing {
  private ActivationCheckpointing() {}

  /** Forward and backward of one batch; returns the mean loss. {@code scale} weights the loss. */
  static double backward(
      LlamaModel model,
      NDArray ids,
      NDArray mask,
      NDArray labels,
      float scale,
      long seed,
      NDManager scope) {
    LlamaModel.Context context = Autograd.withGrad(false, () -> model.context(ids, mask));
    // Forward without a graph; each layer runs in its own scope so only its output survives.
    List<NDArray> inputs = new ArrayList<>();
    NDArray hidden = Autograd.withGrad(false, () -> model.embed(ids));
    for (int i = 0; i < model.numLayers(); i++) {
      inputs.add(hidden);
      int layer = i;
      NDArray input = hidden;
      hidden =
          inScope(
              scope,
              local -> {
                NDArray localInput = input.duplicate(); // results attach to their first operand
                localInput.attach(local);
                reseed(seed, layer);
                return Autograd.withGrad(false, () -> model.layer(layer, localInput, context));
              });
    }
    NDArray top = hidden;
    double[] loss = new double[1];
    NDArray gradient =
        inScope(
            scope,
            local -> {
              NDArray headInput = leaf(top, local);
              Autograd.withGrad(
                  true,
                  () -> {
                    NDArray normed = model.withoutVirtual(model.finalNorm(headInput));
                    loss[0] = ChunkedCrossEntropy.backward(model, normed, labels, scale)[0];
                    return null;
                  });
              return headInput.getGradient();
            });
    // Backward layer by layer, recomputing each with its graph in a scope of its own.
    for (int i = model.numLayers() - 1; i >= 0; i--) {
      int layer = i;
      NDArray upstream = gradient;
      gradient =
          inScope(
              scope,
              local -> {
                NDArray input = leaf(inputs.get(layer), local);
                Autograd.withGrad(
                    true,
                    () -> {
                      reseed(seed, layer); // the recomputation draws the same dropout masks
                      // Prefix tuning's keys enter each layer: recomputed here, in the graph.
                      NDArray output =
                          model.layer(layer, input, model.withPrefixRecomputed(context, local));
                      Autograd.backward(output, upstream); // through the layer's tape segments
                      return null;
                    });
                return input.getGradient();
              });
    }
    // Only a trained embedding or trained virtual tokens need this last segment.
    if (model.inputTrains()) {
      NDArray upstream = gradient;
      inScope(
          scope,
          local ->
              Autograd.withGrad(
                  true,
                  () -> {
                    NDArray localIds = ids.duplicate();
                    localIds.attach(local);
                    NDArray embedded = model.embed(localIds);
                    Autograd.backward(embedded, upstream);
                    return upstream;
                  }));
    }
    return loss[0];
  }

  /** Runs {@code body} in a sub-scope of {@code scope} and keeps only its result. */
  private static NDArray inScope(
      NDManager scope, java.util.function.Function<NDManager, NDArray> body) {
    try (NDManager local = scope.newSubManager()) {
      NDArray result = body.apply(local);
      result.attach(scope);
      return result;
    }
  }

  private static void reseed(long seed, int layer) {
    Torch.engine().setRandomSeed((int) (seed * 131 + layer));
  }

  /** A graph-free copy in {@code local} that collects its own gradient. */
  private static NDArray leaf(NDArray activation, NDManager local) {
    NDArray copy = activation.duplicate();
    copy.attach(local);
    copy.setRequiresGradient(true);
    return copy;
  }
}
