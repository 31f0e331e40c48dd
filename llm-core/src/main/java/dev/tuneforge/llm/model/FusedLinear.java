package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * One stored projection that computes several (Phi-3's {@code qkv_proj}: q, k and v rows; {@code
 * gate_up_proj}: gate then up), split along its output. The fused projection stays one {@link
 * Linear}, so LoRA, NF4 and float16 bases apply to it under its own name, as PEFT adapts {@code
 * qkv_proj}; each part is a {@link Part} whose forward is a slice of the fused output. Called with
 * the same input for every part (as a block does), the fused matmul runs once.
 */
public final class FusedLinear {
  private final Linear fused;
  private NDArray lastInput;
  private NDArray lastOutput;
  private Thread lastThread;

  public FusedLinear(Linear fused) {
    this.fused = fused;
  }

  /** Output features [from, to) of the fused projection, as a projection of its own. */
  public Linear part(long from, long to) {
    return new Part(this, from, to);
  }

  private synchronized NDArray output(NDArray x) {
    if (x != lastInput || lastThread != Thread.currentThread() || lastOutput.isReleased()) {
      lastOutput = fused.forward(x);
      lastInput = x;
      lastThread = Thread.currentThread();
    }
    return lastOutput;
  }

  /** One slice of a fused projection's output. */
  public record Part(FusedLinear owner, long from, long to) implements Linear {
    @Override
    public NDArray forward(NDArray x) {
      return owner.output(x).get("..., " + from + ":" + to);
    }

    @Override
    public boolean frozenBase() {
      return owner.fused.frozenBase();
    }
  }
}
