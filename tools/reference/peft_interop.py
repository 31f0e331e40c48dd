"""Real peft against TuneForge's PEFT adapter files, both ways.

Needs torch >= 2, transformers >= 4.45 and peft (measured with torch 2.14.1, transformers 5.17.0,
peft 0.21.0). None of them is on PyPI for this project's machines; peft_interop.sh installs them
offline from the wheels a machine may carry under /opt/pypi, and says so when they are missing.

  peft_interop.py peft-reads DIR...   for each DIR (an adapter written by TuneForge, e.g. by
                                      ./tuneforge train), load BASE + DIR with peft's
                                      PeftModel.from_pretrained and write DIR/expected.json: the
                                      log-probs peft computes for fixed sequences
  peft_interop.py peft-checks DIR...  for each DIR that already has an expected.json (the
                                      independent reference's, llama_reference.py), load it with
                                      peft and print the largest log-prob difference from it
  peft_interop.py peft-writes OUT     for each method, peft's get_peft_model on BASE, the adapter's
                                      tensors moved off their initial values (seeded), saved with
                                      save_pretrained to OUT/peft-<method>/ with its expected.json

BASE is $PEFT_INTEROP_BASE (a Hugging Face Llama directory). The Java test PeftInteropTest loads
every adapter with TuneForge and compares its log-probs with peft's within 1e-4.
"""

import json
import os
import sys

import torch
from peft import (
    AdaLoraConfig,
    IA3Config,
    LoraConfig,
    PeftModel,
    PrefixTuningConfig,
    PromptTuningConfig,
    get_peft_model,
)
from transformers import LlamaForCausalLM

BASE = os.environ["PEFT_INTEROP_BASE"]


def sequences(vocab):
    g = torch.Generator().manual_seed(1234)
    return [torch.randint(3, vocab, (n,), generator=g).tolist() for n in (14, 9)]


def base():
    model = LlamaForCausalLM.from_pretrained(BASE, dtype=torch.float32)
    model.eval()
    return model


def logprobs(model, seqs):
    out = []
    with torch.no_grad():
        for s in seqs:
            ids = torch.tensor([s])
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0].float()
            logits = logits[-len(s) :]  # prompt tuning returns its virtual positions first
            lse = logits.log_softmax(-1)
            out.append([None] + [lse[t - 1, s[t]].item() for t in range(1, len(s))])
    return out


def write_expected(directory, model, note):
    vocab = model.get_input_embeddings().weight.shape[0]
    seqs = sequences(vocab)
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump(
            {
                "by": note,
                "torch": torch.__version__,
                "peft": __import__("peft").__version__,
                "transformers": __import__("transformers").__version__,
                "sequences": seqs,
                "logprobs": logprobs(model, seqs),
            },
            f,
        )


def peft_reads(dirs):
    for d in dirs:
        model = PeftModel.from_pretrained(base(), d)
        model.eval()
        write_expected(d, model, "peft.PeftModel.from_pretrained of an adapter TuneForge wrote")
        print(f"{d}: {type(model.peft_config['default']).__name__} loaded by peft")


def peft_checks(dirs):
    worst_all = 0.0
    for d in dirs:
        with open(os.path.join(d, "expected.json")) as f:
            expected = json.load(f)
        model = PeftModel.from_pretrained(base(), d)
        model.eval()
        got = logprobs(model, expected["sequences"])
        worst = max(
            abs(a - b)
            for row_got, row_want in zip(got, expected["logprobs"])
            for a, b in zip(row_got[1:], row_want[1:])
        )
        worst_all = max(worst_all, worst)
        print(f"{d}: peft vs the reference's log-probs: largest difference {worst:.2e}")
    if worst_all > 1e-4:
        raise SystemExit(f"peft disagrees with the reference by {worst_all:.2e}")


CONFIGS = {
    "lora": lambda: LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", lora_dropout=0.0),
    "dora": lambda: LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], use_dora=True
    ),
    "lora-gaussian-bias": lambda: LoraConfig(
        r=4,
        lora_alpha=16,
        target_modules=["q_proj", "k_proj", "o_proj", "up_proj"],
        init_lora_weights="gaussian",
        bias="lora_only",
        use_rslora=True,
    ),
    "ia3": lambda: IA3Config(
        target_modules=["k_proj", "v_proj", "down_proj"], feedforward_modules=["down_proj"]
    ),
    "prompt": lambda: PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5),
    "prefix": lambda: PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4),
    "prefix-projection": lambda: PrefixTuningConfig(
        task_type="CAUSAL_LM", num_virtual_tokens=3, prefix_projection=True, encoder_hidden_size=24
    ),
    "adalora": lambda: AdaLoraConfig(
        init_r=6, target_r=4, total_step=100, target_modules=["q_proj", "v_proj"], lora_alpha=8
    ),
}


def peft_writes(out):
    for i, (name, config) in enumerate(CONFIGS.items()):
        model = get_peft_model(base(), config())
        torch.manual_seed(100 + i)
        with torch.no_grad():
            for param_name, p in model.named_parameters():
                if p.requires_grad:
                    p.add_(torch.randn_like(p) * 0.2)  # off the identity, so the adapter acts
        model.eval()
        target = os.path.join(out, "peft-" + name)
        model.save_pretrained(target)
        reloaded = PeftModel.from_pretrained(base(), target)
        reloaded.eval()
        write_expected(target, reloaded, "peft get_peft_model + save_pretrained, " + name)
        print(f"{target}: written by peft")


if __name__ == "__main__":
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode == "peft-reads":
        peft_reads(rest)
    elif mode == "peft-checks":
        peft_checks(rest)
    elif mode == "peft-writes":
        peft_writes(rest[0])
    else:
        raise SystemExit(f"unknown mode {mode}")
