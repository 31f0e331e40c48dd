#!/usr/bin/env python3
"""PyTorch eager reference for TuneForge's training throughput: the same Llama (weights read from
the same safetensors), the same random batch shape, AdamW, full fine-tuning or LoRA (r=16 on all
seven projections). Prints one JSON line: tokens/s (median of timed steps) and peak RSS.

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/reference/train_bench.py MODEL_DIR full 8 128 10
"""
import json
import math
import os
import resource
import statistics
import struct
import sys
import time

import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        assert info["dtype"] == "F32", info["dtype"]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(info["shape"])
    return tensors


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def main(model_dir, method, batch, seq, steps):
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    h, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, layers = cfg["rms_norm_eps"], cfg["num_hidden_layers"]
    projections = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                   "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
    lora = {}
    if method == "full":
        for t in w.values():
            t.requires_grad_(True)
        params = list(w.values())
    else:
        for layer in range(layers):
            for p in projections:
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

    def linear(x, name):
        y = x @ w[name].T
        if name in lora:
            a, b = lora[name]
            y = y + (x @ a.T @ b.T) * 2.0
        return y

    def forward(ids):
        x = w["model.embed_tokens.weight"][ids]
        bsz = ids.shape[0]
        for layer in range(layers):
            p = f"model.layers.{layer}."
            r = x
            x = rms_norm(x, w[p + "input_layernorm.weight"], eps)
            q = linear(x, p + "self_attn.q_proj.weight").view(bsz, seq, nh, hd).transpose(1, 2)
            k = linear(x, p + "self_attn.k_proj.weight").view(bsz, seq, nkv, hd).transpose(1, 2)
            v = linear(x, p + "self_attn.v_proj.weight").view(bsz, seq, nkv, hd).transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            k, v = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
            att = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(hd) + mask, -1) @ v
            x = r + linear(att.transpose(1, 2).reshape(bsz, seq, nh * hd), p + "self_attn.o_proj.weight")
            r = x
            x = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
            g = linear(x, p + "mlp.gate_proj.weight")
            x = r + linear(torch.nn.functional.silu(g) * linear(x, p + "mlp.up_proj.weight"), p + "mlp.down_proj.weight")
        x = rms_norm(x, w["model.norm.weight"], eps)
        return x @ w["model.embed_tokens.weight"].T

    times = []
    for step in range(steps + 2):
        ids = torch.randint(0, cfg["vocab_size"], (batch, seq))
        start = time.perf_counter()
        logits = forward(ids)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step >= 2:
            times.append(time.perf_counter() - start)
    print(json.dumps({"engine": "pytorch " + torch.__version__, "method": method,
                      "tokens_per_second": batch * seq / statistics.median(times),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
