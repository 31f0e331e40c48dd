#!/usr/bin/env python3
"""Golden fixtures for TuneForge's Llama implementation, from an independent PyTorch reference.

The model below is written from Hugging Face transformers' modeling_llama / modeling_qwen2 /
modeling_qwen3 / modeling_mistral semantics (RMSNorm in float32, rotate-half RoPE with `linear` and
`llama3` scaling, grouped-query attention via repeat_kv, Qwen 3's per-head q/k RMSNorm before RoPE,
Mistral's sliding window: query i sees key j when i - window < j <= i, SwiGLU, tied or untied head)
and from modeling_gemma2 / modeling_gemma3 for Gemma (embeddings times sqrt(hidden), (1 + w) RMSNorms,
norms after attention and around the MLP, gelu tanh, query_pre_attn_scalar, tanh soft-capping of scores
and logits, sliding windows on some layers only, Gemma 3's q/k norms and local RoPE base),
using nothing but torch. For each case it
writes a random model in Hugging Face layout (config.json + safetensors, F32 or BF16, single file
or shards) and the log-probabilities of a few token sequences, each computed unpadded.

Run with Debian's PyTorch (no network, no transformers needed):
    /usr/bin/python3 tools/reference/llama_reference.py llm-core/src/test/resources/reference
"""
import json
import math
import os
import struct
import sys
import zlib

import torch

CASES = {
    # name: (config overrides, weight dtype, max shard bytes or None)
    "gqa": ({"num_attention_heads": 4, "num_key_value_heads": 2}, "F32", None),
    "mha-untied": ({"num_attention_heads": 4, "num_key_value_heads": 4, "tie_word_embeddings": False}, "F32", None),
    "attention-and-mlp-bias": ({"attention_bias": True, "mlp_bias": True}, "F32", None),
    "qwen2": ({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "tie_word_embeddings": True}, "F32", None),
    "bf16-weights": ({}, "BF16", None),
    "f16-weights": ({"tie_word_embeddings": False}, "F16", None),
    "sharded": ({"tie_word_embeddings": False}, "F32", 40_000),
    "llama3-rope": ({"rope_theta": 500000.0, "max_position_embeddings": 256,
                     "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 16}},
                    "F32", None),
    "linear-rope-head-dim": ({"head_dim": 16, "rope_scaling": {"rope_type": "linear", "factor": 4.0}}, "F32", None),
    "qwen3": ({"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "head_dim": 16, "tie_word_embeddings": True,
               "use_sliding_window": False, "sliding_window": None, "max_window_layers": 2}, "F32", None),
    "mistral-sliding-window": ({"model_type": "mistral", "architectures": ["MistralForCausalLM"], "sliding_window": 5,
                                "tie_word_embeddings": False}, "F32", None),
    "phi3": ({"model_type": "phi3", "architectures": ["Phi3ForCausalLM"], "sliding_window": 7,
              "tie_word_embeddings": False, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attention_dropout": 0.0,
              "original_max_position_embeddings": 128}, "F32", None),
    "gemma2": ({"model_type": "gemma2", "architectures": ["Gemma2ForCausalLM"], "num_hidden_layers": 3,
                "head_dim": 16, "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
                "query_pre_attn_scalar": 24, "sliding_window": 5, "attn_logit_softcapping": 3.0,
                "final_logit_softcapping": 4.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": True}, "F32", None),
    "gemma3": ({"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"], "num_hidden_layers": 4,
                "head_dim": 16, "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
                "query_pre_attn_scalar": 20, "sliding_window": 6, "sliding_window_pattern": 3,
                "attn_logit_softcapping": None, "final_logit_softcapping": None, "rope_theta": 1000000.0,
                "rope_local_base_freq": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 8.0},
                "rms_norm_eps": 1e-6, "tie_word_embeddings": True}, "F32", None),
}
GEMMA = ("gemma2", "gemma3_text")
# Phi-3 stores q/k/v as one qkv_proj (rows q, then k, then v) and gate/up as one gate_up_proj (gate rows
# first); the model computes them fused and splits the output, as modeling_phi3 does.
FUSED = {"self_attn.qkv_proj": ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"),
         "mlp.gate_up_proj": ("mlp.gate_proj", "mlp.up_proj")}

BASE = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 96, "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 128,
    "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": True, "bos_token_id": 1,
    "eos_token_id": 2, "torch_dtype": "float32",
}


def weights(cfg, gen):
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim", h // nh)
    qwen2 = cfg["model_type"] == "qwen2"
    qkv_bias = qwen2 or cfg.get("attention_bias", False)
    o_bias = (not qwen2) and cfg.get("attention_bias", False)

    def rnd(*shape, std=0.2):
        return torch.randn(*shape, generator=gen) * std

    w = {"model.embed_tokens.weight": rnd(v, h, std=1.0), "model.norm.weight": 1 + rnd(h, std=0.1)}
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rnd(v, h)
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        shapes = {"self_attn.q_proj": (nh * hd, h), "self_attn.k_proj": (nkv * hd, h),
                  "self_attn.v_proj": (nkv * hd, h), "self_attn.o_proj": (h, nh * hd),
                  "mlp.gate_proj": (i, h), "mlp.up_proj": (i, h), "mlp.down_proj": (h, i)}
        for name, shape in shapes.items():
            w[p + name + ".weight"] = rnd(*shape)
            is_attn_in = name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")
            if (is_attn_in and qkv_bias) or (name == "self_attn.o_proj" and o_bias) or \
                    (name.startswith("mlp.") and cfg.get("mlp_bias", False)):
                w[p + name + ".bias"] = rnd(shape[0])
        if cfg["model_type"] == "phi3":
            for fused, parts in FUSED.items():
                w[p + fused + ".weight"] = torch.cat([w.pop(p + part + ".weight") for part in parts])
        gemma = cfg["model_type"] in GEMMA
        one = 0 if gemma else 1  # Gemma stores norm weights as offsets from one
        if cfg["model_type"] in ("qwen3", "gemma3_text"):
            w[p + "self_attn.q_norm.weight"] = one + rnd(hd, std=0.1)
            w[p + "self_attn.k_norm.weight"] = one + rnd(hd, std=0.1)
        w[p + "input_layernorm.weight"] = one + rnd(h, std=0.1)
        w[p + "post_attention_layernorm.weight"] = one + rnd(h, std=0.1)
        if gemma:
            w[p + "pre_feedforward_layernorm.weight"] = rnd(h, std=0.1)
            w[p + "post_feedforward_layernorm.weight"] = rnd(h, std=0.1)
    if cfg["model_type"] in GEMMA:
        w["model.norm.weight"] = rnd(h, std=0.1)
    return w


def sliding_layers(cfg):
    """Gemma's layers that attend within the window: Gemma 2 alternates from layer 0, Gemma 3 makes
    every sliding_window_pattern-th layer full (transformers' layer_types)."""
    pattern = cfg.get("sliding_window_pattern", 2 if cfg["model_type"] == "gemma2" else 6)
    return [bool((i + 1) % pattern) for i in range(cfg["num_hidden_layers"])]


def inv_freq(cfg, local=False):
    hd = cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    base = cfg["rope_local_base_freq"] if local else cfg["rope_theta"]
    freq = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    scaling = None if local else cfg.get("rope_scaling")
    if not scaling:
        return freq
    kind = scaling.get("rope_type", scaling.get("type"))
    factor = scaling["factor"]
    if kind == "linear":
        return freq / factor
    low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = 2 * math.pi / freq
    llama = torch.where(wavelen > low_wavelen, freq / factor, freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * llama / factor + smooth * llama
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, llama)


def rms_norm(x, weight, eps):
    x32 = x.to(torch.float32)
    variance = x32.pow(2).mean(-1, keepdim=True)
    return weight * (x32 * torch.rsqrt(variance + eps))


def gemma_norm(x, weight, eps):
    x32 = x.to(torch.float32)
    return x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + weight.float())


def softcap(x, cap):
    return x if not cap else torch.tanh(x / cap) * cap


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def linear(x, w, name):
    return torch.nn.functional.linear(x, w[name + ".weight"], w.get(name + ".bias"))


def log_probs(cfg, w, ids, prompt=None, prefix=None):
    """Log-probs of `ids[1:]`; `prompt` (n, h): virtual token embeddings before the tokens (PEFT
    prompt tuning: inputs_embeds = cat(prompt, embed(ids)), so the tokens sit at positions n...);
    `prefix` (n, 2 * layers * nkv * hd): PEFT prefix tuning's flat past keys and values, layer l's
    key at block 2l and value at 2l + 1, prepended unrotated to every layer's keys and values, the
    tokens at positions n..."""
    h, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim", h // nh)
    eps = cfg["rms_norm_eps"]
    gemma = cfg["model_type"] in GEMMA
    norm = gemma_norm if gemma else rms_norm
    x = w["model.embed_tokens.weight"][torch.tensor(ids)][None]  # (1, t, h)
    lead = 0
    if prompt is not None:
        lead = prompt.shape[0]
        x = torch.cat((prompt[None], x), dim=1)
    past = 0
    if prefix is not None:
        past = prefix.shape[0]
        kv = prefix.view(past, 2 * cfg["num_hidden_layers"], nkv, hd).permute(1, 2, 0, 3)  # (2L, nkv, n, hd)
    t = x.shape[1]
    if gemma:  # Gemma scales inputs_embeds, virtual tokens included
        x = x * torch.tensor(h ** 0.5, dtype=x.dtype)
    positions = torch.arange(past, past + t)[None].float()

    def angles(local):
        freqs = (inv_freq(cfg, local)[None, :, None] @ positions[:, None, :]).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos()[:, None], emb.sin()[:, None]  # (1, 1, t, hd)

    lowest = torch.finfo(torch.float32).min
    causal = torch.full((t, t + past), lowest).triu(1 + past)  # every query sees the whole prefix
    window = cfg.get("sliding_window") if cfg["model_type"] in ("mistral", "phi3") else None
    if window:
        causal = causal + torch.full((t, t + past), lowest).tril(past - window)
    windowed = causal + torch.full((t, t + past), lowest).tril(past - cfg["sliding_window"]) if gemma else causal
    sliding = sliding_layers(cfg) if gemma else [False] * cfg["num_hidden_layers"]
    scaling = cfg["query_pre_attn_scalar"] ** -0.5 if gemma else None
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        local = sliding[layer]
        cos, sin = angles(local and cfg["model_type"] == "gemma3_text")
        r = x
        x = norm(x, w[p + "input_layernorm.weight"], eps)
        if cfg["model_type"] == "phi3":
            qkv = linear(x, w, p + "self_attn.qkv_proj")
            q, k, v = qkv[..., :nh * hd].view(1, t, nh, hd), qkv[..., nh * hd:(nh + nkv) * hd].view(1, t, nkv, hd), \
                qkv[..., (nh + nkv) * hd:].view(1, t, nkv, hd).transpose(1, 2)
        else:
            q = linear(x, w, p + "self_attn.q_proj").view(1, t, nh, hd)
            k = linear(x, w, p + "self_attn.k_proj").view(1, t, nkv, hd)
            v = linear(x, w, p + "self_attn.v_proj").view(1, t, nkv, hd).transpose(1, 2)
        if cfg["model_type"] in ("qwen3", "gemma3_text"):  # per-head RMSNorm over head_dim, before RoPE
            q = norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if prefix is not None:
            k = torch.cat((kv[2 * layer][None], k), dim=2)
            v = torch.cat((kv[2 * layer + 1][None], v), dim=2)
        k = k[:, :, None].expand(1, nkv, nh // nkv, t + past, hd).reshape(1, nh, t + past, hd)
        v = v[:, :, None].expand(1, nkv, nh // nkv, t + past, hd).reshape(1, nh, t + past, hd)
        scores = q @ k.transpose(2, 3) * scaling if gemma else q @ k.transpose(2, 3) / math.sqrt(hd)
        scores = softcap(scores, cfg.get("attn_logit_softcapping") if gemma else None)
        scores = scores + (windowed if local else causal)
        attn = torch.softmax(scores.float(), dim=-1) @ v
        out = linear(attn.transpose(1, 2).reshape(1, t, nh * hd), w, p + "self_attn.o_proj")
        if gemma:
            x = r + norm(out, w[p + "post_attention_layernorm.weight"], eps)
            r = x
            x = norm(x, w[p + "pre_feedforward_layernorm.weight"], eps)
        else:
            x = r + out
            r = x
            x = norm(x, w[p + "post_attention_layernorm.weight"], eps)
        if cfg["model_type"] == "phi3":
            gate, up = linear(x, w, p + "mlp.gate_up_proj").chunk(2, dim=-1)
        else:
            gate, up = linear(x, w, p + "mlp.gate_proj"), linear(x, w, p + "mlp.up_proj")
        act = torch.nn.functional.gelu(gate, approximate="tanh") if gemma else torch.nn.functional.silu(gate)
        mlp = linear(act * up, w, p + "mlp.down_proj")
        x = r + (norm(mlp, w[p + "post_feedforward_layernorm.weight"], eps) if gemma else mlp)
    x = norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    logits = softcap(x @ head.T, cfg.get("final_logit_softcapping") if gemma else None)
    logp = torch.log_softmax(logits, dim=-1)[0]
    return [None] + [logp[lead + i - 1, ids[i]].item() for i in range(1, len(ids))]


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if dtype == "BF16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        elif dtype == "F16":
            raw = t.to(torch.float16).numpy().tobytes()
        else:
            raw = t.to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def save(directory, cfg, w, dtype, max_shard):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    if max_shard is None:
        write_safetensors(os.path.join(directory, "model.safetensors"), w, dtype)
        return
    groups, current, size = [], {}, 0
    for name in sorted(w):
        n = w[name].numel() * (4 if dtype == "F32" else 2)
        if current and size + n > max_shard:
            groups.append(current)
            current, size = {}, 0
        current[name] = w[name]
        size += n
    groups.append(current)
    weight_map = {}
    for k, group in enumerate(groups):
        file = f"model-{k + 1:05d}-of-{len(groups):05d}.safetensors"
        write_safetensors(os.path.join(directory, file), group, dtype)
        weight_map.update({name: file for name in group})
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(t.numel() * 4 for t in w.values())},
                   "weight_map": weight_map}, f, indent=2, sort_keys=True)


LLAMA_MODULES = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                 "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def write_lora_adapter(directory, cfg, w, gen, sequences, modules=LLAMA_MODULES):
    """A random LoRA (r=4, alpha=8) on `modules` (all seven projections by default; Phi-3's fused
    ones for phi3) in PEFT's layout, and the log-probs of `sequences` with it applied
    (W + alpha/r * B @ A), as peft computes them."""
    r, alpha = 4, 8.0
    adapter, merged = {}, dict(w)
    for layer in range(cfg["num_hidden_layers"]):
        for module in modules:
            name = f"model.layers.{layer}.{module}"
            out_features, in_features = w[name + ".weight"].shape
            a = torch.randn(r, in_features, generator=gen) * 0.2
            b = torch.randn(out_features, r, generator=gen) * 0.2
            adapter[f"base_model.model.{name}.lora_A.weight"] = a
            adapter[f"base_model.model.{name}.lora_B.weight"] = b
            merged[name + ".weight"] = w[name + ".weight"] + (alpha / r) * (b @ a)
    os.makedirs(directory, exist_ok=True)
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.0,
              "target_modules": [m.split(".")[-1] for m in modules],
              "bias": "none", "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
              "use_rslora": False, "use_dora": False, "modules_to_save": None, "rank_pattern": {}, "alpha_pattern": {},
              "base_model_name_or_path": "gqa", "revision": None, "layers_to_transform": None, "layers_pattern": None}
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(directory, "adapter_model.safetensors"), adapter, "F32")
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump({"sequences": sequences, "logprobs": [log_probs(cfg, merged, seq) for seq in sequences]}, f)


def write_dora_adapter(directory, cfg, w, gen, sequences):
    """A random DoRA adapter (r=4, alpha=8, magnitude m) on q_proj and v_proj in PEFT's layout, and
    the log-probs with it applied: W' = m / ||W + s B A||_row * (W + s B A), as peft computes DoRA
    (dropout 0)."""
    r, alpha = 4, 8.0
    adapter, merged = {}, dict(w)
    for layer in range(cfg["num_hidden_layers"]):
        for module in ["self_attn.q_proj", "self_attn.v_proj"]:
            name = f"model.layers.{layer}.{module}"
            weight = w[name + ".weight"]
            a = torch.randn(r, weight.shape[1], generator=gen) * 0.2
            b = torch.randn(weight.shape[0], r, generator=gen) * 0.2
            combined = weight + (alpha / r) * (b @ a)
            magnitude = combined.norm(dim=1) * (1 + 0.3 * torch.rand(weight.shape[0], generator=gen))
            adapter[f"base_model.model.{name}.lora_A.weight"] = a
            adapter[f"base_model.model.{name}.lora_B.weight"] = b
            adapter[f"base_model.model.{name}.lora_magnitude_vector"] = magnitude
            merged[name + ".weight"] = (magnitude / combined.norm(dim=1))[:, None] * combined
    os.makedirs(directory, exist_ok=True)
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.0,
              "target_modules": ["q_proj", "v_proj"], "bias": "none", "use_dora": True, "use_rslora": False,
              "fan_in_fan_out": False, "base_model_name_or_path": "gqa"}
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(directory, "adapter_model.safetensors"), adapter, "F32")
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump({"sequences": sequences, "logprobs": [log_probs(cfg, merged, seq) for seq in sequences]}, f)


def write_ia3_adapter(directory, cfg, w, gen, sequences):
    """A random IA3 adapter on k_proj, v_proj and down_proj (PEFT's Llama defaults; down_proj
    feed-forward) in PEFT's layout: ia3_l of shape (out, 1) scales a projection's output rows,
    (1, in) a feed-forward one's input columns. The log-probs are computed with the vectors folded
    into the weights (W * l), which is what peft's IA3 forward computes."""
    adapter, merged = {}, dict(w)
    for layer in range(cfg["num_hidden_layers"]):
        for module, feedforward in [("self_attn.k_proj", False), ("self_attn.v_proj", False),
                                    ("mlp.down_proj", True)]:
            name = f"model.layers.{layer}.{module}"
            out_features, in_features = w[name + ".weight"].shape
            shape = (1, in_features) if feedforward else (out_features, 1)
            scale = 1 + 0.3 * torch.randn(*shape, generator=gen)
            adapter[f"base_model.model.{name}.ia3_l"] = scale
            merged[name + ".weight"] = w[name + ".weight"] * scale
    os.makedirs(directory, exist_ok=True)
    config = {"peft_type": "IA3", "task_type": "CAUSAL_LM", "target_modules": ["k_proj", "v_proj", "down_proj"],
              "feedforward_modules": ["down_proj"], "fan_in_fan_out": False, "modules_to_save": None,
              "init_ia3_weights": True, "inference_mode": True, "base_model_name_or_path": "gqa",
              "exclude_modules": None, "revision": None}
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(directory, "adapter_model.safetensors"), adapter, "F32")
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump({"sequences": sequences, "logprobs": [log_probs(cfg, merged, seq) for seq in sequences]}, f)


def write_prompt_tuning_adapter(directory, cfg, w, gen, sequences):
    """A PEFT prompt-tuning adapter of 5 virtual tokens (prompt_embeddings (5, hidden), random as
    RANDOM initialises them, scaled to the size of the token embeddings), and the log-probs of
    `sequences` after those virtual tokens."""
    n = 5
    prompt = torch.randn(n, cfg["hidden_size"], generator=gen) * 0.2
    os.makedirs(directory, exist_ok=True)
    config = {"peft_type": "PROMPT_TUNING", "task_type": "CAUSAL_LM", "num_virtual_tokens": n,
              "token_dim": cfg["hidden_size"], "num_transformer_submodules": 1,
              "num_attention_heads": cfg["num_attention_heads"], "num_layers": cfg["num_hidden_layers"],
              "prompt_tuning_init": "RANDOM", "prompt_tuning_init_text": None, "tokenizer_name_or_path": None,
              "tokenizer_kwargs": None, "inference_mode": True, "modules_to_save": None,
              "base_model_name_or_path": "gqa", "revision": None}
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(directory, "adapter_model.safetensors"), {"prompt_embeddings": prompt}, "F32")
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump({"sequences": sequences,
                   "logprobs": [log_probs(cfg, w, seq, prompt=prompt) for seq in sequences]}, f)


def write_prefix_tuning_adapter(directory, cfg, w, gen, sequences):
    """A PEFT prefix-tuning adapter of 4 virtual tokens without prefix_projection, on a GQA model:
    peft sizes the prefix by the key/value heads (token_dim = num_key_value_heads * head_dim,
    num_attention_heads = num_key_value_heads), prompt_embeddings (4, 2 * layers * token_dim)."""
    n = 4
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim", cfg["hidden_size"] // nh)
    token_dim = nkv * hd
    prefix = torch.randn(n, 2 * cfg["num_hidden_layers"] * token_dim, generator=gen) * 0.5
    os.makedirs(directory, exist_ok=True)
    config = {"peft_type": "PREFIX_TUNING", "task_type": "CAUSAL_LM", "num_virtual_tokens": n,
              "token_dim": token_dim, "num_transformer_submodules": 1, "num_attention_heads": nkv,
              "num_layers": cfg["num_hidden_layers"], "encoder_hidden_size": cfg["hidden_size"],
              "prefix_projection": False, "init_weights": None, "inference_mode": True, "modules_to_save": None,
              "base_model_name_or_path": "gqa", "revision": None}
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(directory, "adapter_model.safetensors"), {"prompt_embeddings": prefix}, "F32")
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump({"sequences": sequences,
                   "logprobs": [log_probs(cfg, w, seq, prefix=prefix) for seq in sequences]}, f)


def write_adalora_adapter(directory, cfg, w, gen, sequences):
    """A random AdaLoRA adapter (init_r 4, lora_alpha 8) on q_proj and v_proj in PEFT's layout:
    lora_A (r, in), lora_E (r, 1), lora_B (out, r), with a rank_pattern that prunes ranks of some
    modules, whose saved tensors are cut to the kept ranks as peft saves them; ranknum (init_r) is
    not stored. The log-probs are computed with W + B (A * E) * alpha / (init_r + 1e-5) folded in,
    what peft's SVDLinear computes."""
    init_r, alpha = 4, 8.0
    adapter, merged, pattern = {}, dict(w), {}
    for layer in range(cfg["num_hidden_layers"]):
        for module in ["self_attn.q_proj", "self_attn.v_proj"]:
            name = f"model.layers.{layer}.{module}"
            out_features, in_features = w[name + ".weight"].shape
            kept = [True] * init_r if (layer + len(module)) % 2 else [True, False, True, False]
            rank = sum(kept)
            a = torch.randn(rank, in_features, generator=gen) * 0.3
            e = torch.randn(rank, 1, generator=gen)
            b = torch.randn(out_features, rank, generator=gen) * 0.3
            key = f"base_model.model.{name}"
            adapter[key + ".lora_A"], adapter[key + ".lora_E"], adapter[key + ".lora_B"] = a, e, b
            pattern[name + ".lora_E"] = kept  # peft keys rank_pattern by base-model parameter names
            merged[name + ".weight"] = w[name + ".weight"] + b @ (a * e) * alpha / (init_r + 1e-5)
    os.makedirs(directory, exist_ok=True)
    config = {"peft_type": "ADALORA", "task_type": "CAUSAL_LM", "init_r": init_r, "target_r": 2, "tinit": 0,
              "tfinal": 0, "deltaT": 1, "beta1": 0.85, "beta2": 0.85, "orth_reg_weight": 0.5, "total_step": 10,
              "r": 8, "lora_alpha": alpha, "lora_dropout": 0.0, "target_modules": ["q_proj", "v_proj"],
              "bias": "none", "fan_in_fan_out": False, "init_lora_weights": True, "modules_to_save": None,
              "rank_pattern": pattern, "inference_mode": True, "base_model_name_or_path": "gqa", "revision": None}
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(directory, "adapter_model.safetensors"), adapter, "F32")
    with open(os.path.join(directory, "expected.json"), "w") as f:
        # peft's AdaLoraModel.forward adds orth_reg_weight * mean(||A A^T - I||_F, ||B^T B - I||_F).
        norms = []
        for key in sorted(k for k in adapter if k.endswith((".lora_A", ".lora_B"))):
            p = adapter[key]
            cov = p @ p.T if key.endswith(".lora_A") else p.T @ p
            norms.append(torch.norm(cov - torch.eye(*cov.size()), p="fro").item())
        json.dump({"sequences": sequences, "logprobs": [log_probs(cfg, merged, seq) for seq in sequences],
                   "orth_penalty": config["orth_reg_weight"] * sum(norms) / len(norms)}, f)


def main(out):
    torch.set_num_threads(1)
    for name, (overrides, dtype, max_shard) in sorted(CASES.items()):
        cfg = dict(BASE, **overrides)
        gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))  # stable when cases are added
        w = weights(cfg, gen)
        if dtype in ("BF16", "F16"):  # the model computes with the rounded weights, as a loader would
            half = torch.bfloat16 if dtype == "BF16" else torch.float16
            w = {k: v.to(half).to(torch.float32) for k, v in w.items()}
        directory = os.path.join(out, name)
        save(directory, cfg, w, dtype, max_shard)
        lengths = [24, 9] if name != "llama3-rope" else [120, 40]
        sequences = [torch.randint(0, cfg["vocab_size"], (n,), generator=gen).tolist() for n in lengths]
        expected = {"sequences": sequences, "logprobs": [log_probs(cfg, w, s) for s in sequences],
                    "torch_version": torch.__version__}
        with open(os.path.join(directory, "expected.json"), "w") as f:
            json.dump(expected, f)
        print(f"{name}: {sum(len(s) for s in sequences)} tokens")
        if name == "phi3":
            write_lora_adapter(os.path.join(out, "phi3-lora-adapter"), cfg, w, gen, sequences,
                               modules=["self_attn.qkv_proj", "self_attn.o_proj", "mlp.gate_up_proj", "mlp.down_proj"])
            print("phi3-lora-adapter: PEFT adapter on the fused qkv_proj and gate_up_proj, o_proj, down_proj")
        if name == "gemma2":
            write_lora_adapter(os.path.join(out, "gemma2-lora-adapter"), cfg, w, gen, sequences)
            print("gemma2-lora-adapter: PEFT adapter on all seven projections of the Gemma 2 model")
        if name == "gqa":
            write_lora_adapter(os.path.join(out, "gqa-lora-adapter"), cfg, w, gen, sequences)
            print("gqa-lora-adapter: PEFT adapter on all seven projections")
            write_dora_adapter(os.path.join(out, "gqa-dora-adapter"), cfg, w, gen, sequences)
            print("gqa-dora-adapter: PEFT DoRA adapter on q_proj and v_proj")
            write_ia3_adapter(os.path.join(out, "gqa-ia3-adapter"), cfg, w, gen, sequences)
            print("gqa-ia3-adapter: PEFT IA3 adapter on k_proj, v_proj and down_proj (feed-forward)")
            write_prompt_tuning_adapter(os.path.join(out, "gqa-prompt-tuning-adapter"), cfg, w, gen, sequences)
            print("gqa-prompt-tuning-adapter: PEFT prompt tuning, 5 virtual tokens")
            write_prefix_tuning_adapter(os.path.join(out, "gqa-prefix-tuning-adapter"), cfg, w, gen, sequences)
            print("gqa-prefix-tuning-adapter: PEFT prefix tuning, 4 virtual tokens, no projection")
            write_adalora_adapter(os.path.join(out, "gqa-adalora-adapter"), cfg, w, gen, sequences)
            print("gqa-adalora-adapter: PEFT AdaLoRA on q_proj and v_proj, some ranks pruned")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "llm-core/src/test/resources/reference")
