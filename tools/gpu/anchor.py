#!/usr/bin/env python3
"""The anchor of the GPU kit: transformers + peft on the same shape, batch and steps as TuneForge's
train-bench rows, in the same run on the same GPU. One JSON line per row on stdout: tokens/s
(median step after 2 warm-up steps) and peak GPU memory from torch.cuda.max_memory_allocated.

Random weights in the public shape (no download): LlamaConfig of TinyLlama-1.1B or Llama-2-7B.
Rows: LoRA r=16 on all linear projections over a float32 base and over a float16 base, and QLoRA
(NF4, float16 compute) when bitsandbytes is installed (else a row saying it is not).
"""
import argparse
import json
import statistics
import sys
import time

SHAPES = {
    "tinyllama-1.1b": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                           num_attention_heads=32, num_key_value_heads=4, vocab_size=32000),
    "llama-2-7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=32, vocab_size=32000),
}
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def row(name, args, build):
    import torch
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    try:
        model = build()
    except Exception as e:  # one row failing does not stop the others
        return {"engine": "transformers+peft", "row": name, "failed": f"{type(e).__name__}: {e}"}
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    ids = torch.randint(0, SHAPES[args.shape]["vocab_size"], (args.batch, args.seq_len),
                        device="cuda")
    times = []
    for step in range(args.steps + 2):
        torch.cuda.synchronize()
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if step >= 2:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    result = {
        "engine": "transformers+peft", "row": name, "shape": args.shape,
        "batch": f"{args.batch}x{args.seq_len}",
        "tokens_per_second": round(args.batch * (args.seq_len - 1) / median, 1),
        "peak_gpu_allocated_mib": round(torch.cuda.max_memory_allocated() / 2**20),
        "peak_gpu_reserved_mib": round(torch.cuda.max_memory_reserved() / 2**20),
        "trainable": sum(p.numel() for p in params),
    }
    del model, optimizer
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="tinyllama-1.1b", choices=sorted(SHAPES))
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()

    import torch
    import transformers
    import peft

    print(json.dumps({"engine": "transformers+peft", "torch": torch.__version__,
                      "transformers": transformers.__version__, "peft": peft.__version__,
                      "device": torch.cuda.get_device_name(0)}), flush=True)
    config = transformers.LlamaConfig(**SHAPES[args.shape], max_position_embeddings=4096)
    lora = peft.LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=TARGETS,
                           task_type="CAUSAL_LM")

    def dense(dtype):
        def build():
            torch.manual_seed(1)
            model = transformers.LlamaForCausalLM(config).to(dtype=dtype, device="cuda")
            return peft.get_peft_model(model, lora)
        return build

    print(json.dumps(row("lora, base float32", args, dense(torch.float32))), flush=True)
    print(json.dumps(row("lora, base float16", args, dense(torch.float16))), flush=True)
    print(json.dumps(row("lora, base bfloat16", args, dense(torch.bfloat16))), flush=True)
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        print(json.dumps({"engine": "transformers+peft", "row": "qlora",
                          "failed": "bitsandbytes is not installed"}), flush=True)
        return 0

    def quantized():
        torch.manual_seed(1)
        model = transformers.LlamaForCausalLM(config).to(dtype=torch.float16)
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)
            model = transformers.LlamaForCausalLM.from_pretrained(
                tmp, quantization_config=transformers.BitsAndBytesConfig(
                    load_in_4bit=True, bnb_4bit_quant_type="nf4",
                    bnb_4bit_compute_dtype=torch.float16, bnb_4bit_use_double_quant=True),
                device_map={"": 0})
        model = peft.prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
        return peft.get_peft_model(model, lora)

    print(json.dumps(row("qlora nf4 float16 double-quant, checkpointing", args, quantized)),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
