#!/usr/bin/env python3
"""Golden AdamW + LR-schedule + clip_grad_norm_ trajectory from PyTorch, for TuneForge's optimiser.

A 4x3 parameter receives the gradient G_t (fixed below) at each step t; the update is
clip_grad_norm_(max_norm) -> torch.optim.AdamW -> LambdaLR (cosine with warm-up, as transformers'
get_cosine_schedule_with_warmup). Writes the parameter after every step.

    /usr/bin/python3 tools/reference/optim_reference.py > llm-core/src/test/resources/reference/adamw.json
"""
import json
import math

import torch

STEPS, WARMUP, LR, WD, MAX_NORM = 6, 2, 0.05, 0.1, 0.5


def cosine(step):
    if step < WARMUP:
        return step / max(1, WARMUP)
    progress = (step - WARMUP) / max(1, STEPS - WARMUP)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def gradient(t):
    return torch.tensor([[math.sin(t + 3 * i + j) * (1 + t) for j in range(3)] for i in range(4)])


def main():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(4, 3))
    start = p.detach().clone()
    optimizer = torch.optim.AdamW([p], lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=WD)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine)
    trajectory, norms, rates = [], [], []
    for t in range(STEPS):
        p.grad = gradient(t)
        norms.append(torch.nn.utils.clip_grad_norm_([p], MAX_NORM).item())
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
        trajectory.append(p.detach().flatten().tolist())
    print(json.dumps({"start": start.flatten().tolist(), "gradients": [gradient(t).flatten().tolist() for t in range(STEPS)],
                      "steps": STEPS, "warmup": WARMUP, "lr": LR, "weight_decay": WD, "max_norm": MAX_NORM,
                      "grad_norms": norms, "learning_rates": rates, "trajectory": trajectory}, indent=1))


if __name__ == "__main__":
    main()
