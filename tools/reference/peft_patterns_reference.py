#!/usr/bin/env python3
"""PEFT adapters that select modules by PEFT's finer rules, and their log-probs on the "gqa"
reference model: a regular-expression target_modules with rank_pattern and alpha_pattern, a
list target_modules with layers_to_transform, layers_pattern and exclude_modules, and lora_bias
(B with a bias: W x + scale * (B A x + b), as peft's Linear computes it).

Which modules are adapted, and with which r and lora_alpha, is decided by peft's own functions
(check_target_module_exists, match_target_against_key, get_pattern_key), executed from peft's
source; the log-probs by the independent PyTorch model of llama_reference.py.

    (the library's fetch github:huggingface/peft, then)
    mkdir -p /tmp/peft && git -C /work/.mirror/huggingface+peft/repo archive HEAD \\
        src/peft/tuners/tuners_utils.py src/peft/utils/other.py | tar -x -C /tmp/peft
    PEFT_SRC=/tmp/peft /usr/bin/python3 tools/reference/peft_patterns_reference.py llm-core/src/test/resources/reference
"""
import ast
import json
import os
import re
import struct
import sys
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_reference as ref  # noqa: E402

FUNCTIONS = {"tuners/tuners_utils.py": ["check_target_module_exists"],
             "utils/other.py": ["match_target_against_key", "get_pattern_key"]}


def peft_functions(src):
    """peft's matching functions, compiled from its source with only `re` in scope."""
    namespace = {"re": re, "Optional": object, "Sequence": object, "_ExcludedModule": type("_ExcludedModule", (), {})}
    for path, names in FUNCTIONS.items():
        with open(os.path.join(src, "src/peft", path)) as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                node.returns = None
                for arg in node.args.args:
                    arg.annotation = None
                exec(compile(ast.Module([node], []), path, "exec"), namespace)
    return namespace


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).reshape(info["shape"]).clone()
    return out


ADAPTERS = {
    "gqa-pattern-adapter": {"r": 4, "lora_alpha": 8.0, "target_modules": r".*\.(q_proj|v_proj|down_proj)",
                            "rank_pattern": {"v_proj": 2, "model.layers.1.mlp.down_proj": 3},
                            "alpha_pattern": {"q_proj": 2.0}, "layers_to_transform": None, "layers_pattern": None,
                            "exclude_modules": None},
    "gqa-layers-adapter": {"r": 4, "lora_alpha": 8.0, "target_modules": ["q_proj", "o_proj", "up_proj"],
                           "rank_pattern": {}, "alpha_pattern": {}, "layers_to_transform": [1],
                           "layers_pattern": "layers", "exclude_modules": ["up_proj"]},
    "gqa-lora-bias-adapter": {"r": 4, "lora_alpha": 8.0, "target_modules": ["q_proj", "down_proj"],
                              "rank_pattern": {}, "alpha_pattern": {}, "layers_to_transform": None,
                              "layers_pattern": None, "exclude_modules": None, "lora_bias": True},
}
MODULES = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def main(out):
    peft = peft_functions(os.environ["PEFT_SRC"])
    gqa = os.path.join(out, "gqa")
    with open(os.path.join(gqa, "config.json")) as f:
        cfg = json.load(f)
    w = read_safetensors(os.path.join(gqa, "model.safetensors"))
    with open(os.path.join(gqa, "expected.json")) as f:
        sequences = json.load(f)["sequences"]
    gen = torch.Generator().manual_seed(20261201)
    for name, options in ADAPTERS.items():
        config_view = types.SimpleNamespace(**options, modules_to_save=None, target_parameters=None)
        adapter, merged, adapted = {}, dict(w), []
        for layer in range(cfg["num_hidden_layers"]):
            for module in MODULES:
                key = f"model.layers.{layer}.{module}"
                found = peft["check_target_module_exists"](config_view, key)
                if not found or type(found).__name__ == "_ExcludedModule":
                    continue
                r = options["rank_pattern"].get(peft["get_pattern_key"](options["rank_pattern"].keys(), key), options["r"])
                alpha = options["alpha_pattern"].get(peft["get_pattern_key"](options["alpha_pattern"].keys(), key),
                                                     options["lora_alpha"])
                out_features, in_features = w[key + ".weight"].shape
                a = torch.randn(r, in_features, generator=gen) * 0.2
                b = torch.randn(out_features, r, generator=gen) * 0.2
                adapter[f"base_model.model.{key}.lora_A.weight"] = a
                adapter[f"base_model.model.{key}.lora_B.weight"] = b
                merged[key + ".weight"] = w[key + ".weight"] + (alpha / r) * (b @ a)
                if options.get("lora_bias"):
                    bias = torch.randn(out_features, generator=gen) * 0.2
                    adapter[f"base_model.model.{key}.lora_B.bias"] = bias
                    merged[key + ".bias"] = w.get(key + ".bias", torch.zeros(out_features)) + (alpha / r) * bias
                adapted.append([key, r, alpha])
        directory = os.path.join(out, name)
        os.makedirs(directory, exist_ok=True)
        config = dict({"lora_bias": False}, **options)
        config.update(peft_type="LORA", task_type="CAUSAL_LM", lora_dropout=0.0, bias="none",
                      fan_in_fan_out=False, inference_mode=True, init_lora_weights=True, use_rslora=False,
                      use_dora=False, modules_to_save=None, base_model_name_or_path="gqa", revision=None)
        with open(os.path.join(directory, "adapter_config.json"), "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
        ref.write_safetensors(os.path.join(directory, "adapter_model.safetensors"), adapter, "F32")
        with open(os.path.join(directory, "expected.json"), "w") as f:
            json.dump({"sequences": sequences, "adapted": adapted,
                       "logprobs": [ref.log_probs(cfg, merged, s) for s in sequences]}, f)
        print(f"{name}: {[k for k, _, _ in adapted]}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "llm-core/src/test/resources/reference")
