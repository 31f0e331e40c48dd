"""Real peft against TuneForge's reward models saved as PEFT sequence-classification adapters.

Prompt and prefix tuning do not merge, so a reward model trained with them is saved as peft saves
one (task_type SEQ_CLS, the score head among modules_to_save). Needs torch, transformers and peft
(measured with torch 2.14.1, transformers 5.17.0, peft 0.21.0; peft_reward_interop.sh installs
them offline from /opt/pypi wheels).

  peft_reward_interop.py peft-reads DIR...  for each DIR (a reward adapter written by TuneForge,
                                            ./tuneforge train with trainer reward_model), load
                                            AutoModelForSequenceClassification(BASE) + DIR with
                                            PeftModel.from_pretrained and write DIR/expected.json:
                                            the rewards peft computes for fixed sequences
  peft_reward_interop.py peft-writes OUT    for prompt and prefix tuning, peft's get_peft_model on
                                            BASE with task_type SEQ_CLS, the virtual tokens and
                                            the score head moved off their initial values
                                            (seeded), saved to OUT/peft-rm-<method>/ with its
                                            expected.json

BASE is $PEFT_INTEROP_BASE. Each sequence is scored alone (no padding: peft's prompt tuning pools
the last position). The Java test PeftRewardInteropTest opens every adapter with TuneForge and
compares its rewards with peft's within 1e-4.
"""

import json
import os
import sys

import torch
from peft import PeftModel, PrefixTuningConfig, PromptTuningConfig, TaskType, get_peft_model
from transformers import AutoModelForSequenceClassification

BASE = os.environ["PEFT_INTEROP_BASE"]


def sequences(vocab):
    g = torch.Generator().manual_seed(4321)
    return [torch.randint(3, vocab, (n,), generator=g).tolist() for n in (12, 7, 5)]


def base():
    model = AutoModelForSequenceClassification.from_pretrained(
        BASE, num_labels=1, dtype=torch.float32
    )
    model.eval()
    return model


def rewards(model, seqs):
    out = []
    with torch.no_grad():
        for s in seqs:
            ids = torch.tensor([s])
            out.append(model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, 0].item())
    return out


def write_expected(model, directory, vocab):
    seqs = sequences(vocab)
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump({"sequences": seqs, "rewards": rewards(model, seqs)}, f, indent=1)


def peft_reads(dirs):
    for d in dirs:
        model = PeftModel.from_pretrained(base(), d)
        model.eval()
        write_expected(model, d, model.config.vocab_size)
        print(d, "loaded by peft")


def peft_writes(out):
    configs = {
        "prompt": PromptTuningConfig(task_type=TaskType.SEQ_CLS, num_virtual_tokens=4),
        "prefix": PrefixTuningConfig(task_type=TaskType.SEQ_CLS, num_virtual_tokens=3),
    }
    for name, config in configs.items():
        torch.manual_seed(7)
        model = get_peft_model(base(), config)
        with torch.no_grad():
            for n, p in model.named_parameters():
                if p.requires_grad:  # the virtual tokens and the score head
                    p.add_(torch.randn_like(p) * 0.5)
        model.eval()
        directory = os.path.join(out, "peft-rm-" + name)
        model.save_pretrained(directory)
        write_expected(model, directory, model.config.vocab_size)
        print(directory, "written by peft")


if __name__ == "__main__":
    if sys.argv[1] == "peft-reads":
        peft_reads(sys.argv[2:])
    elif sys.argv[1] == "peft-writes":
        peft_writes(sys.argv[2])
    else:
        sys.exit(__doc__)
