#!/usr/bin/env python3
"""Golden data for AdaLoRA's rank allocation (llm-core RankAllocatorTest), computed the way peft's
RankAllocator and AdaLoraModel.update_and_allocate do (peft src/peft/tuners/adalora/layer.py and
model.py, read for the formulas, not imported): per step, importance |p * grad| smoothed by beta1,
uncertainty by beta2, the cubic budget schedule, masking by torch.kthvalue every deltaT steps, the
final pattern at total_step - tfinal and the fixed pattern after it.

Run with Debian's PyTorch:
    /usr/bin/python3 tools/reference/adalora_allocator.py llm-core/src/test/resources/reference/adalora-allocator.json
"""
import json
import sys

import torch


def main(out):
    torch.manual_seed(7)
    init_r, target_r, tinit, tfinal, delta_t, beta1, beta2, total = 4, 2, 2, 3, 2, 0.85, 0.85, 12
    modules = {"m0": (5, 6), "m1": (3, 4), "m2": (7, 2)}  # in, out
    names = sorted(f"{m}.{part}" for m in modules for part in ("lora_A", "lora_E", "lora_B"))
    shape = {}
    for m, (i, o) in modules.items():
        shape[f"{m}.lora_A"], shape[f"{m}.lora_E"], shape[f"{m}.lora_B"] = (init_r, i), (init_r, 1), (o, init_r)
    init_bgt, target_bgt = init_r * len(modules), target_r * len(modules)
    ipt, unc = {}, {}
    e_values = {m: torch.randn(init_r, 1) for m in modules}
    steps, pattern = [], None
    for step in range(1, total + 4):
        values = {n: torch.randn(*shape[n]) for n in names}
        for m in modules:  # E carries over (masked entries stay masked until the optimizer moves them)
            values[f"{m}.lora_E"] = e_values[m] + 0.1 * torch.randn(init_r, 1)
        grads = {n: torch.randn(*shape[n]) for n in names}
        record = {"step": step, "values": {n: v.flatten().tolist() for n, v in values.items()},
                  "gradients": {n: g.flatten().tolist() for n, g in grads.items()}}

        def schedule(t):
            if t <= tinit:
                return init_bgt, False
            if t > total - tfinal:
                return target_bgt, True
            mul = 1 - (t - tinit) / (total - tfinal - tinit)
            return int((init_bgt - target_bgt) * (mul ** 3) + target_bgt), t % delta_t == 0

        def mask(budget):
            scores = {}
            for m in modules:
                s = {n: ipt[f"{m}.{n}"] * unc[f"{m}.{n}"] for n in ("lora_A", "lora_E", "lora_B")}
                a = torch.mean(s["lora_A"], dim=1, keepdim=True)
                b = torch.mean(s["lora_B"], dim=0, keepdim=False).view(-1, 1)
                scores[m] = s["lora_E"].view(-1) + torch.cat([a, b], dim=1).sum(dim=1).view(-1)
            threshold = torch.kthvalue(torch.cat(list(scores.values())), k=init_bgt - budget)[0].item()
            kept = {}
            for m in modules:
                values[f"{m}.lora_E"].masked_fill_((scores[m] <= threshold).view(-1, 1), 0.0)
                kept[f"{m}.lora_E"] = (~(scores[m] <= threshold)).tolist()
            return kept

        changed = None
        if step < total - tfinal:
            for n in names:
                now = (values[n] * grads[n]).abs()
                ipt[n] = beta1 * ipt.get(n, torch.zeros_like(now)) + (1 - beta1) * now
                unc[n] = beta2 * unc.get(n, torch.zeros_like(now)) + (1 - beta2) * (now - ipt[n]).abs()
            budget, masked = schedule(step)
            if masked:
                pattern = changed = mask(budget)
        elif step == total - tfinal:
            pattern = changed = mask(schedule(step)[0])
            ipt, unc = {}, {}
        else:
            for m in modules:
                keep = torch.tensor(pattern[f"{m}.lora_E"]).view(-1, 1)
                values[f"{m}.lora_E"].masked_fill_(~keep, 0.0)
        for m in modules:
            e_values[m] = values[f"{m}.lora_E"].clone()
        record["budget"] = schedule(step)[0]
        record["e_after"] = {m: values[f"{m}.lora_E"].flatten().tolist() for m in modules}
        record["pattern"] = changed
        steps.append(record)
    golden = {"settings": {"init_r": init_r, "target_r": target_r, "tinit": tinit, "tfinal": tfinal,
                           "deltaT": delta_t, "beta1": beta1, "beta2": beta2, "total_step": total},
              "modules": sorted(modules), "steps": steps, "torch_version": torch.__version__}
    with open(out, "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    main(sys.argv[1])
