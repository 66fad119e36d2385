#!/usr/bin/env python3
"""Runs a converted model in every attention mode on one prompt and prints how much each layer
uses its linear branch.  PYTHONPATH=build/python python3 examples/python/modes_and_linear_share.py CONVERTED [PROMPT]"""
import sys

import torch

import lincat

model = lincat.load(sys.argv[1])
prompt = sys.argv[2] if len(sys.argv) > 2 else " ".join(
    ["The pass key is 71432. Remember it."] + ["The grass is green and the sky is blue."] * 20 + ["The pass key is"])
ids = model.encode(prompt)
targets = torch.tensor(ids[1:])
hybrid = model.forward(torch.tensor(ids), attention="hybrid")
print(f"{len(ids)} tokens, window {model.config['lincat']['window']}")
for mode in ("softmax",) + lincat.MODES:
    logits = model.forward(torch.tensor(ids), attention=mode)
    loss = torch.nn.functional.cross_entropy(logits[:-1], targets).item()
    agreement = (logits.argmax(-1) == hybrid.argmax(-1)).double().mean().item()
    print(f"  {mode:8s} next-token loss {loss:6.3f}   top-1 agreement with hybrid {agreement:5.1%}")

usage = model.linear_share([ids])  # hybrid mode, positions beyond the window
print(f"linear share of the normaliser, per layer (mean over heads; {usage['positions']} positions):")
for layer, heads in enumerate(usage["linear_share"]):
    print(f"  layer {layer:2d}: {sum(heads) / len(heads):6.1%}   heads: " + " ".join(f"{h:.0%}" for h in heads))
print("greedy continuation (ids):", model.generate(ids, max_new_tokens=8))
