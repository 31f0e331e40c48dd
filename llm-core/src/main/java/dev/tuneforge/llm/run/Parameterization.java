package dev.tuneforge.llm.run;

import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.adapter.Adapter;
import dev.tuneforge.llm.adapter.AdapterSettings;
import dev.tuneforge.llm.adapter.Nf4Linear;
import dev.tuneforge.llm.model.HalfLinear;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.Objects;

/**
 * What trains: every weight ({@link Full}), or an adapter over a frozen base ({@link Adapted}). How
 * the frozen base is stored is its own axis: QLoRA is LoRA over {@link BaseWeights.Nf4}, and IA3 or
 * AdaLoRA over NF4 are the same combination of the two.
 */
public sealed interface Parameterization {
  /** Full fine-tuning: every weight in float32, trained. */
  record Full() implements Parameterization {}

  /** A PEFT adapter over a frozen base stored as {@code base} says. */
  record Adapted(BaseWeights base, AdapterSettings adapter) implements Parameterization {
    public Adapted {
      Objects.requireNonNull(base, "base");
      Objects.requireNonNull(adapter, "adapter");
    }
  }

  /** How a frozen base keeps its projection weights. */
  sealed interface BaseWeights {
    /** The projections the model is built with. */
    Projections projections();

    /** Dense, in float32 or (transformers' {@code torch_dtype}) float16. */
    record Dense(DataType storage) implements BaseWeights {
      public static final Dense FLOAT32 = new Dense(DataType.FLOAT32);

      public Dense {
        if (storage != DataType.FLOAT32
            && storage != DataType.FLOAT16
            && storage != DataType.BFLOAT16) {
          throw new IllegalArgumentException(
              "a frozen base is stored in float32, float16 or bfloat16, not " + storage);
        }
      }

      @Override
      public Projections projections() {
        return storage == DataType.FLOAT32 ? Projections.DENSE : HalfLinear.projections(storage);
      }
    }

    /**
     * NF4 (bitsandbytes' 4-bit NormalFloat) in blocks of {@code blocksize} values, the block scales
     * themselves quantized to 8 bits with {@code doubleQuant}, dequantized to {@code computeType}
     * for each matmul.
     */
    record Nf4(int blocksize, boolean doubleQuant, DataType computeType) implements BaseWeights {
      /** The block sizes bitsandbytes' quantize_4bit takes. */
      public static final java.util.List<Integer> BLOCKSIZES =
          java.util.List.of(64, 128, 256, 512, 1024, 2048, 4096);

      public Nf4 {
        if (!BLOCKSIZES.contains(blocksize)) {
          throw new IllegalArgumentException(
              "blocksize must be one of " + BLOCKSIZES + " but was " + blocksize);
        }
        Objects.requireNonNull(computeType, "computeType");
      }

      @Override
      public Projections projections() {
        return Nf4Linear.projections(blocksize, doubleQuant, computeType);
      }
    }
  }

  /** The base's projections: dense float32 for full fine-tuning. */
  default Projections baseProjections() {
    return this instanceof Adapted adapted ? adapted.base().projections() : Projections.DENSE;
  }

  /** A fresh adapter for this run, or null for full fine-tuning. */
  default Adapter newAdapter(Tokenizer tokenizer, long seed) {
    return this instanceof Adapted adapted ? adapted.adapter().create(tokenizer, seed) : null;
  }

  /** The projections to build the trained model with: the base's, wrapped by {@code adapter}. */
  default Projections projections(Adapter adapter) {
    return adapter == null ? baseProjections() : adapter.projections(baseProjections());
  }
}
