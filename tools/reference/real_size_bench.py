#!/usr/bin/env python3
"""PyTorch eager reference at real model sizes, for tools/bench/real-size-bench.sh: the same Llama
or Qwen2 shape (weights read tensor by tensor from the same BF16 safetensors, sharded or not), the
same random batch, AdamW, full fine-tuning or LoRA (r=16, alpha=32, all seven projections), the
frozen base kept in float32 or bfloat16 (transformers' torch_dtype), optionally with gradient
checkpointing per layer (torch.utils.checkpoint). Prints one JSON line with the load time, the
load peak RSS, tokens/s (trained tokens, median of the timed steps) and the step peak RSS.

    OPENBLAS_CORETYPE=SkylakeX THREADS=2 /usr/bin/python3 tools/reference/real_size_bench.py \
        MODEL_DIR lora float32 1 256 3 [--gradient-checkpointing]
"""
import json
import math
import mmap
import os
import statistics
import struct
import sys
import time

import torch
import torch.utils.checkpoint

PROJECTIONS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def rss_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def shard_files(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        return sorted(set(json.load(open(index))["weight_map"].values()))
    return ["model.safetensors"]


def load(model_dir, dtype):
    """Every tensor, read from the mapped file one at a time, converted to dtype."""
    tensors = {}
    for name in shard_files(model_dir):
        with open(os.path.join(model_dir, name), "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            for key, info in header.items():
                if key == "__metadata__":
                    continue
                begin, end = info["data_offsets"]
                raw = bytearray(data[8 + n + begin:8 + n + end])
                if info["dtype"] == "BF16":
                    t = torch.frombuffer(raw, dtype=torch.bfloat16)
                else:
                    t = torch.frombuffer(raw, dtype=torch.float32)
                tensors[key] = t.reshape(info["shape"]).to(dtype).clone()
                del raw
            data.close()
    return tensors


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def main(model_dir, method, base_dtype, batch, seq, steps, checkpointing):
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    frozen = torch.bfloat16 if base_dtype == "bfloat16" else torch.float32
    start = time.perf_counter()
    w = load(model_dir, torch.float32 if method == "full" else frozen)
    load_seconds = time.perf_counter() - start
    load_peak = rss_mib("VmHWM:")
    reset = reset_peak()
    h, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim", h // nh)
    eps, layers = cfg["rms_norm_eps"], cfg["num_hidden_layers"]
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    lora = {}
    if method == "full":
        for t in w.values():
            t.requires_grad_(True)
        params = list(w.values())
    else:
        for layer in range(layers):
            for p in PROJECTIONS:
                name = f"model.layers.{layer}.{p}.weight"
                out_f, in_f = w[name].shape
                a = (torch.rand(16, in_f) * 2 - 1) / math.sqrt(in_f)
                lora[name] = (a.requires_grad_(True), torch.zeros(out_f, 16, requires_grad=True))
        params = [t for pair in lora.values() for t in pair]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
    freqs = torch.outer(torch.arange(seq).float(), inv)
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    mask = torch.full((seq, seq), float("-inf")).triu(1)

    def linear(x, name, bias=None):
        weight = w[name]
        y = (x.to(weight.dtype) @ weight.T).float()
        if bias is not None:
            y = y + w[bias].float()
        if name in lora:
            a, b = lora[name]
            y = y + (x @ a.T @ b.T) * 2.0
        return y

    def block(x, layer):
        bsz = x.shape[0]
        p = f"model.layers.{layer}."
        bias = (lambda m: p + m + ".bias") if qkv_bias else (lambda m: None)
        r = x
        x = rms_norm(x, w[p + "input_layernorm.weight"].float(), eps)
        q = linear(x, p + "self_attn.q_proj.weight", bias("self_attn.q_proj"))
        k = linear(x, p + "self_attn.k_proj.weight", bias("self_attn.k_proj"))
        v = linear(x, p + "self_attn.v_proj.weight", bias("self_attn.v_proj"))
        q = q.view(bsz, seq, nh, hd).transpose(1, 2)
        k = k.view(bsz, seq, nkv, hd).transpose(1, 2)
        v = v.view(bsz, seq, nkv, hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
        att = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(hd) + mask, -1) @ v
        x = r + linear(att.transpose(1, 2).reshape(bsz, seq, nh * hd), p + "self_attn.o_proj.weight")
        r = x
        x = rms_norm(x, w[p + "post_attention_layernorm.weight"].float(), eps)
        g = linear(x, p + "mlp.gate_proj.weight")
        u = linear(x, p + "mlp.up_proj.weight")
        return r + linear(torch.nn.functional.silu(g) * u, p + "mlp.down_proj.weight")

    def forward(ids):
        x = w["model.embed_tokens.weight"][ids].float()
        if checkpointing and method != "full":
            x.requires_grad_(True)  # so the checkpointed segments have a gradient to pass on
        for layer in range(layers):
            if checkpointing:
                x = torch.utils.checkpoint.checkpoint(block, x, layer, use_reentrant=False)
            else:
                x = block(x, layer)
        x = rms_norm(x, w["model.norm.weight"].float(), eps)
        return (x.to(head.dtype) @ head.T).float()  # transformers upcasts the logits

    times = []
    for step in range(steps + 2):
        ids = torch.randint(0, cfg["vocab_size"], (batch, seq))
        begin = time.perf_counter()
        logits = forward(ids)
        loss = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        del logits
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step >= 2:
            times.append(time.perf_counter() - begin)
    print(json.dumps({
        "engine": "pytorch " + torch.__version__, "method": method,
        "variant": ("base " + base_dtype) if method != "full" else "float32",
        "gradient_checkpointing": checkpointing, "batch": f"{batch}x{seq}",
        "load_seconds": round(load_seconds, 1), "load_peak_rss_mib": round(load_peak),
        "tokens_per_second": round(batch * (seq - 1) / statistics.median(times), 1),
        "peak_rss_mib": round(rss_mib("VmHWM:") if reset else max(load_peak, rss_mib("VmHWM:")))}))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(args[0], args[1], args[2], int(args[3]), int(args[4]), int(args[5]),
         "--gradient-checkpointing" in sys.argv)
