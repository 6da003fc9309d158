#!/usr/bin/python3
"""Writes the PyTorch reference fixtures for tests/neural/test_nn_torch.c.

Run from the repository root with Debian's python3-torch (1.13):

    /usr/bin/python3 tests/neural/gen_reference.py tests/neural/fixtures

CI never runs this: the fixtures it writes are committed. For each scenario
it writes two safetensors files:

  <name>.model.safetensors  a checkpoint in nsr's format (tensor names in
                            neural/README.md, config in
                            __metadata__["nsr.config"]),
                            written here with plain json/struct, not by nsr;
  <name>.ref.safetensors    the batch (tokens, lengths, targets as F32), every
                            forward activation, the loss, the gradient of every
                            parameter ("grad.<name>") and the parameters after
                            10 AdamW steps with clipping and the warmup+cosine
                            schedule ("step10.<name>").

The model is written out op by op from the specification in issue 4, so it
is an independent derivation of what the C code must compute.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# Training settings shared with test_nn_torch.c.
LR_MAX, LR_MIN, WARMUP, TOTAL = 1e-2, 1e-3, 3, 10
BETAS, EPS, WEIGHT_DECAY, CLIP = (0.9, 0.999), 1e-8, 0.1, 0.5


def sinusoidal(max_len, d):
    pe = np.zeros((max_len, d))
    for p in range(max_len):
        for i in range(0, d, 2):
            angle = p / 10000.0 ** (i / d)
            pe[p, i], pe[p, i + 1] = math.sin(angle), math.cos(angle)
    return torch.tensor(pe, dtype=torch.float32)


def make_params(cfg, gen):
    """Random parameters at scales that give non-trivial gradients."""
    d, ff, C = cfg["d_model"], cfg["d_ff"], cfg["n_classes"]

    def rnd(*shape, std=0.3, mean=0.0):
        return (mean + std * torch.randn(*shape, generator=gen)).requires_grad_()

    p = {"tok_emb.weight": rnd(cfg["vocab"], d, std=1.0)}
    for i in range(cfg["n_layers"]):
        b = f"blocks.{i}."
        p[b + "ln1.weight"] = rnd(d, std=0.1, mean=1.0)
        p[b + "ln1.bias"] = rnd(d, std=0.1)
        p[b + "attn.qkv.weight"] = rnd(3 * d, d)
        p[b + "attn.qkv.bias"] = rnd(3 * d, std=0.1)
        p[b + "attn.proj.weight"] = rnd(d, d)
        p[b + "attn.proj.bias"] = rnd(d, std=0.1)
        p[b + "ln2.weight"] = rnd(d, std=0.1, mean=1.0)
        p[b + "ln2.bias"] = rnd(d, std=0.1)
        p[b + "ffn.fc1.weight"] = rnd(ff, d)
        p[b + "ffn.fc1.bias"] = rnd(ff, std=0.1)
        p[b + "ffn.fc2.weight"] = rnd(d, ff)
        p[b + "ffn.fc2.bias"] = rnd(d, std=0.1)
    p["ln_f.weight"] = rnd(d, std=0.1, mean=1.0)
    p["ln_f.bias"] = rnd(d, std=0.1)
    p["head.weight"] = rnd(C, d, std=0.5)
    p["head.bias"] = rnd(C, std=0.1)
    if cfg.get("n_labels", 0) > 0:
        p["label_head.weight"] = rnd(cfg["n_labels"], d, std=0.5)
        p["label_head.bias"] = rnd(cfg["n_labels"], std=0.1)
    return p


def forward(cfg, p, tokens, lengths, acts):
    """The encoder of issue 4; stores intermediates in acts, returns the
    logits of the head and (head "both") of the label head, else None."""
    B, T = tokens.shape
    d, h = cfg["d_model"], cfg["n_heads"]
    hs = d // h
    key_ok = torch.arange(T)[None, :] < lengths[:, None]  # [B, T]
    x = p["tok_emb.weight"][tokens]
    if cfg["pos"] == "sinusoidal":
        x = x + sinusoidal(cfg["max_len"], d)[:T]
    acts["x0"] = x
    for i in range(cfg["n_layers"]):
        b = f"blocks.{i}."
        ln1 = F.layer_norm(x, (d,), p[b + "ln1.weight"], p[b + "ln1.bias"], 1e-5)
        qkv = F.linear(ln1, p[b + "attn.qkv.weight"], p[b + "attn.qkv.bias"])
        q, k, v = qkv.split(d, dim=2)
        q = q.view(B, T, h, hs).transpose(1, 2)
        k = k.view(B, T, h, hs).transpose(1, 2)
        v = v.view(B, T, h, hs).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        scores = scores.masked_fill(~key_ok[:, None, None, :], float("-inf"))
        att = F.softmax(scores, dim=-1)
        atty = (att @ v).transpose(1, 2).reshape(B, T, d)
        res_att = x + F.linear(atty, p[b + "attn.proj.weight"], p[b + "attn.proj.bias"])
        ln2 = F.layer_norm(res_att, (d,), p[b + "ln2.weight"], p[b + "ln2.bias"], 1e-5)
        fc1 = F.linear(ln2, p[b + "ffn.fc1.weight"], p[b + "ffn.fc1.bias"])
        gelu = F.gelu(fc1)  # exact erf form
        x = res_att + F.linear(gelu, p[b + "ffn.fc2.weight"], p[b + "ffn.fc2.bias"])
        for name, t in (("ln1", ln1), ("qkv", qkv), ("att", att), ("atty", atty),
                        ("res_att", res_att), ("ln2", ln2), ("fc1", fc1),
                        ("gelu", gelu), ("out", x)):
            acts[f"blocks.{i}.{name}"] = t
    lnf = F.layer_norm(x, (d,), p["ln_f.weight"], p["ln_f.bias"], 1e-5)
    if cfg["pool"] == "cls":
        pooled = lnf[:, 0]
    else:
        w = key_ok.float()[:, :, None]
        pooled = (lnf * w).sum(1) / lengths[:, None].float()
    acts["lnf"], acts["pooled"] = lnf, pooled
    logits = F.linear(pooled, p["head.weight"], p["head.bias"])
    if cfg["head"] != "both":
        return logits, None
    return logits, F.linear(pooled, p["label_head.weight"], p["label_head.bias"])


def loss_fn(cfg, outputs, targets, label_targets=None):
    """The head's loss; for head "both", plus the label head's BCE."""
    logits, label_logits = outputs
    if cfg["head"] == "sigmoid":
        return F.binary_cross_entropy_with_logits(logits, targets)
    if targets.dtype == torch.long:
        loss = F.cross_entropy(logits, targets)
    else:
        loss = F.kl_div(F.log_softmax(logits, -1), targets, reduction="batchmean")
    if label_logits is not None:
        loss = loss + F.binary_cross_entropy_with_logits(label_logits, label_targets)
    return loss


def lr_at(step):
    if step <= WARMUP:
        return LR_MAX * step / WARMUP
    progress = (step - WARMUP) / (TOTAL - WARMUP)
    return LR_MIN + 0.5 * (LR_MAX - LR_MIN) * (1 + math.cos(math.pi * progress))


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset, blobs = 0, []
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().numpy(), dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def scenario(outdir, name, cfg, seed, tokens, lengths, targets, label_targets=None):
    gen = torch.Generator().manual_seed(seed)
    p = make_params(cfg, gen)
    write_safetensors(os.path.join(outdir, name + ".model.safetensors"), p,
                      {"nsr.config": json.dumps(cfg), "format": "pt"})
    tokens = torch.tensor(tokens)
    lengths = torch.tensor(lengths)
    ref = {"batch.tokens": tokens.float(), "batch.lengths": lengths.float(),
           "batch.targets": targets.float()}
    if label_targets is not None:
        ref["batch.label_targets"] = label_targets
    acts = {}
    logits, label_logits = forward(cfg, p, tokens, lengths, acts)
    loss = loss_fn(cfg, (logits, label_logits), targets, label_targets)
    loss.backward()
    for k, v in acts.items():
        ref["acts." + k] = v
    ref["logits"] = logits
    ref["probs"] = torch.sigmoid(logits) if cfg["head"] == "sigmoid" else F.softmax(logits, -1)
    if label_logits is not None:
        ref["label_logits"] = label_logits
        ref["label_probs"] = torch.sigmoid(label_logits)
    ref["loss"] = loss.reshape(1)
    for k, v in p.items():
        ref["grad." + k] = v.grad.clone()

    opt = torch.optim.AdamW(p.values(), lr=LR_MAX, betas=BETAS, eps=EPS,
                            weight_decay=WEIGHT_DECAY)
    for step in range(1, TOTAL + 1):
        opt.zero_grad()
        loss_fn(cfg, forward(cfg, p, tokens, lengths, {}), targets,
                label_targets).backward()
        torch.nn.utils.clip_grad_norm_(p.values(), CLIP)
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        opt.step()
    for k, v in p.items():
        ref["step10." + k] = v
    write_safetensors(os.path.join(outdir, name + ".ref.safetensors"), ref, {})


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "tests/neural/fixtures"
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    base = {"vocab": 11, "d_model": 8, "n_heads": 2, "n_layers": 2, "d_ff": 16,
            "max_len": 6, "n_classes": 4}
    tokens = [[1, 4, 7, 2, 9], [3, 3, 10, 0, 0], [5, 8, 6, 1, 0]]
    lengths = [5, 3, 4]
    # A: positions, mean pooling, softmax with hard labels, padded batch.
    a = dict(base, pos="sinusoidal", pool="mean", head="softmax")
    scenario(outdir, "softmax_hard", a, 1, tokens, lengths, torch.tensor([2, 0, 3]))
    # B: the same model with a teacher distribution (KL).
    teacher = F.softmax(torch.randn(3, 4, generator=torch.Generator().manual_seed(7)), -1)
    scenario(outdir, "softmax_soft", a, 2, tokens, lengths, teacher)
    # C: a set model (no positions), cls pooling, multi-label sigmoid head.
    c = dict(base, pos="none", pool="cls", head="sigmoid")
    labels = torch.tensor([[1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 0]], dtype=torch.float32)
    scenario(outdir, "sigmoid_multi", c, 3, tokens, lengths, labels)
    # D: both heads: softmax over 4 classes (hard labels) plus 3 independent
    # labels (soft targets included); the loss is CE + BCE.
    d = dict(base, pos="sinusoidal", pool="mean", head="both", n_labels=3)
    label_targets = torch.tensor([[1, 0, 0.5], [0, 1, 1], [0, 0, 1]], dtype=torch.float32)
    scenario(outdir, "both_heads", d, 4, tokens, lengths, torch.tensor([1, 3, 0]),
             label_targets)


if __name__ == "__main__":
    main()
