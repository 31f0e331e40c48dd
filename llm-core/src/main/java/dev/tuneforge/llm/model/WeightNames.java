package dev.tuneforge.llm.model;

/** Hugging Face tensor names of a Llama-family checkpoint, in one place. */
public final class WeightNames {
  public static final String EMBED_TOKENS = "model.embed_tokens.weight";
  public static final String FINAL_NORM = "model.norm.weight";
  public static final String LM_HEAD = "lm_head.weight";

  /** Projection names inside a decoder layer, as PEFT's {@code target_modules} uses them. */
  public static final String Q_PROJ = "self_attn.q_proj";

  public static final String K_PROJ = "self_attn.k_proj";
  public static final String V_PROJ = "self_attn.v_proj";
  public static final String O_PROJ = "self_attn.o_proj";
  public static final String GATE_PROJ = "mlp.gate_proj";
  public static final String UP_PROJ = "mlp.up_proj";
  public static final String DOWN_PROJ = "mlp.down_proj";

  /** Phi-3's fused projections: q, k, v rows in one; gate then up rows in one. */
  public static final String QKV_PROJ = "self_attn.qkv_proj";

  public static final String GATE_UP_PROJ = "mlp.gate_up_proj";
  public static final String INPUT_NORM = "input_layernorm";
  public static final String POST_ATTENTION_NORM = "post_attention_layernorm";

  /** Gemma's norms before and after the feed-forward. */
  public static final String PRE_FEEDFORWARD_NORM = "pre_feedforward_layernorm";

  public static final String POST_FEEDFORWARD_NORM = "post_feedforward_layernorm";

  /** Qwen 3's per-head query and key norms. */
  public static final String Q_NORM = "self_attn.q_norm";

  public static final String K_NORM = "self_attn.k_norm";

  private WeightNames() {}

  /** {@code model.layers.{layer}.} */
  public static String layer(int layer) {
    return "model.layers." + layer + ".";
  }

  /** The weight of a module in a layer, e.g. {@code model.layers.0.self_attn.q_proj.weight}. */
  public static String weight(int layer, String module) {
    return layer(layer) + module + ".weight";
  }

  /** The bias of a module in a layer. */
  public static String bias(int layer, String module) {
    return layer(layer) + module + ".bias";
  }
}
