#!/usr/bin/env python3
"""NF4 reference vectors, computed the way bitsandbytes' default (torch) backend quantizes:
per-block absmax, x/absmax clamped to [-1, 1], torch.bucketize against the midpoints of the NF4
code (right=False: a value on a midpoint takes the lower code), even element in the high nibble.
bitsandbytes itself cannot be installed here (no PyPI); this follows its quantize_4bit.

    /usr/bin/python3 tools/reference/nf4_reference.py > llm-core/src/test/resources/reference/nf4.json
"""
import json

import torch

NF4 = torch.tensor([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=torch.float32)


def quantize(values, blocksize):
    n = values.numel()
    blocks = (n + blocksize - 1) // blocksize
    padded = torch.zeros(blocks * blocksize)
    padded[:n] = values
    absmax = padded.view(blocks, blocksize).abs().max(dim=1).values
    scaled = (padded.view(blocks, blocksize) / absmax[:, None].clamp(min=1e-30)).clamp(-1, 1).flatten()[:n]
    midpoints = (NF4[:-1] + NF4[1:]) / 2
    codes = torch.bucketize(scaled, midpoints, right=False)
    packed = (codes[::2] << 4) | codes[1::2]
    return codes.tolist(), packed.tolist(), absmax.tolist()


def main():
    gen = torch.Generator().manual_seed(4)
    cases = []
    for name, values, blocksize in [
        ("normal-64", torch.randn(1024, generator=gen) * 0.02, 64),
        ("normal-128", torch.randn(512, generator=gen), 128),
        ("partial-block", torch.randn(100, generator=gen), 64),
        # absmax 1, so each midpoint stays exactly a midpoint after scaling: ties go to the lower code
        ("midpoints", torch.cat([torch.tensor([1.0, 0.0]), (NF4[:-1] + NF4[1:]) / 2, torch.tensor([-1.0])]), 64),
    ]:
        codes, packed, absmax = quantize(values, blocksize)
        cases.append({"name": name, "blocksize": blocksize, "values": values.tolist(), "codes": codes,
                      "packed": packed, "absmax": absmax})
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
