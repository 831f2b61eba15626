#!/usr/bin/python3
"""Checks `pal grads` against PyTorch autograd (double backprop).

Usage: check_grads.py PAL MODEL BATCH LAYER ATTRIBUTION CHANNELS LAMBDA [--bn-frozen]

Builds the model's architecture (its text form, read from the model file's
metadata) as a PyTorch graph, loads the same weights, computes
CE + lambda * PAL with torch.autograd.grad(..., create_graph=True) exactly as
../shared/bench/pal_torch.py does, runs `PAL grads` on the same model and
batch, and compares every gradient.  Prints TAP-style lines; exits 1 on a
mismatch.  The priors must be at the PAL layer's resolution (no resize).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as Fn

DT = {"F32": (torch.float32, 4), "I64": (torch.int64, 8), "I32": (torch.int32, 4)}


def read_st(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, t in header.items():
        dtype, size = DT[t["dtype"]]
        b, e = t["data_offsets"]
        buf = bytearray(data[base + b:base + e])
        out[name] = torch.frombuffer(buf, dtype=dtype).reshape(t["shape"]).clone() \
            if e > b else torch.zeros(t["shape"], dtype=dtype)
    return out, meta


def parse_arch(text):
    nodes = []
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        tok = line.split()
        op, name, kv = tok[0], tok[1], dict(t.split("=", 1) for t in tok[2:])
        nodes.append((op, name, kv))
    return nodes


def pair(s, default):
    if s is None:
        return default
    a = s.split("x")
    return (int(a[0]), int(a[-1]))


def act(y, kv):
    a = kv.get("act")
    if a == "relu":
        return torch.relu(y)
    if a and a.startswith("leaky:"):
        return Fn.leaky_relu(y, float(a[6:]))
    return y


def pad4(kv):
    p = kv.get("pad", "0").split(",")
    if len(p) == 1:
        p = p * 4
    t, l, b, r = (int(v) for v in p)
    return t, l, b, r


def near_switches(op, pre, y):
    """Activations within float32 rounding of a ReLU kink, or max-pool windows
    whose two largest values are that close: there float32 and float64 may
    route the gradient differently, both correctly."""
    tol = 1e-6 * max(pre.abs().max().item(), 1e-30)
    if op == "relu":
        return int((pre.abs() < tol).sum())
    top = pre.topk(2, dim=1).values
    return int(((top[:, 0] - top[:, 1] < tol) & (top[:, 0] > tol)).sum())


def run_graph(nodes, W, x, bn_frozen, capture, switches=None):
    vals = {}
    prev = None
    for op, name, kv in nodes:
        ins = kv.get("in", prev).split(",") if op != "input" else []
        a = vals[ins[0]] if ins else None
        if op == "input":
            y = x
        elif op == "conv":
            t, l, b, r = pad4(kv)
            a = Fn.pad(a, (l, r, t, b))
            y = Fn.conv2d(a, W[name + ".weight"], W.get(name + ".bias"),
                          stride=pair(kv.get("stride"), (1, 1)),
                          groups=int(kv.get("groups", 1)))
        elif op == "linear":
            y = Fn.linear(a.flatten(1), W[name + ".weight"], W.get(name + ".bias"))
        elif op == "relu":
            y = a
            kv = dict(kv, act=kv.get("act", "relu"))
        elif op in ("maxpool", "avgpool"):
            k = pair(kv.get("k"), None)
            s = pair(kv.get("stride"), k)
            t, l, b, r = pad4(kv)
            assert t == b and l == r, "asymmetric pool padding not supported here"
            if op == "maxpool":
                y = Fn.max_pool2d(a, k, s, (t, l))
                if switches is not None and t == 0 and l == 0:
                    cols = Fn.unfold(a.detach().flatten(0, 1)[:, None], k, stride=s)
                    switches[name] = near_switches("maxpool", cols, y)
            else:
                y = Fn.avg_pool2d(a, k, s, (t, l),
                                  count_include_pad=kv.get("count_pad", "1") == "1")
        elif op == "gap":
            y = a.mean(dim=(2, 3), keepdim=True)
        elif op == "flatten":
            y = a.flatten(1)[:, :, None, None]
        elif op == "add":
            y = vals[ins[0]] + vals[ins[1]]
        elif op == "dropout":
            y = a      # checked only on nets without active dropout
        elif op == "batchnorm":
            y = Fn.batch_norm(a, W[name + ".running_mean"].clone(),
                              W[name + ".running_var"].clone(),
                              W[name + ".weight"], W[name + ".bias"],
                              training=not bn_frozen, momentum=float(kv.get("momentum", 0.1)),
                              eps=float(kv.get("eps", 1e-5)))
        else:
            raise ValueError(op)
        if op in ("linear",):
            y = y[:, :, None, None]
        if switches is not None and kv.get("act") == "relu":
            switches[name] = near_switches("relu", y.detach(), None)
        y = act(y, kv)
        vals[name] = y
        prev = name
        if name == capture:
            capture_val = y
    return vals[prev].flatten(1), (capture_val if capture else None)


def standardise(m):
    mu = m.mean(dim=(-2, -1), keepdim=True)
    sd = m.std(dim=(-2, -1), keepdim=True, unbiased=False)
    return (m - mu) / (sd + 1e-6)


def reference(nodes, W32, B, layer, attribution, channels, lam, bn_frozen, dtype):
    """Loss terms and gradients computed by autograd in @dtype."""
    W = {k: v.to(dtype).requires_grad_(k.endswith("weight") or k.endswith("bias"))
         for k, v in W32.items()}
    x = B["images"].to(dtype)
    y = B["labels"].long()
    prior = standardise(B["priors"].to(dtype))
    switches = {}
    z, F = run_graph(nodes, W, x, bn_frozen, layer, switches)
    ce = Fn.cross_entropy(z, y)
    g, = torch.autograd.grad(z.sum(), F, create_graph=True)
    A = g.abs() * F if attribution == "grad-input" else g.abs()
    C = A.shape[1]
    hw = A.shape[2] * A.shape[3]
    if channels == "all":
        pal_b = -(standardise(A) * prior[:, None]).sum(dim=(2, 3)).mean(dim=1) / hw
    else:
        c1 = C if channels == "mean" else (int(channels.split(":")[1]) if ":" in channels else C // 2)
        M = A[:, :c1].mean(dim=1)
        pal_b = -(standardise(M) * prior).sum(dim=(1, 2)) / hw
    palv = pal_b.mean()
    loss = ce + lam * palv
    params = [k for k in W if W[k].requires_grad]
    grads = torch.autograd.grad(loss, [W[k] for k in params], allow_unused=True)
    return ({k: (gr if gr is not None else torch.zeros_like(W[k])).double()
             for k, gr in zip(params, grads)}, float(ce), float(palv),
            {k: v for k, v in switches.items() if v})


def main():
    pal, model, batch, layer, attribution, channels, lam = sys.argv[1:8]
    bn_frozen = "--bn-frozen" in sys.argv
    lam = float(lam)
    W32, meta = read_st(model)
    B, _ = read_st(batch)
    nodes = parse_arch(meta["arch"])
    ref64, ce, palv, switches = reference(nodes, W32, B, layer, attribution, channels, lam, bn_frozen,
                                torch.float64)
    ref32, _, _, _ = reference(nodes, W32, B, layer, attribution, channels, lam, bn_frozen,
                            torch.float32)

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "g.safetensors")
        cmd = [pal, "grads", "--model", model, "--batch", batch, "--layer", layer,
               "--attribution", attribution, "--channels", channels, "--lambda", str(lam),
               "--out", out]
        if bn_frozen:
            cmd.append("--bn-frozen")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        ours, _ = read_st(out)

    bad = 0
    def report(ok, what):
        nonlocal bad
        bad += not ok
        print(("ok - " if ok else "not ok - ") + what)

    for name, ref in (("loss.ce", ce), ("loss.pal", palv)):
        o = float(ours[name])
        report(abs(o - ref) <= 1e-5 * max(1.0, abs(ref)),
               f"{name}: pal {o:.7f} torch {float(ref):.7f}")
    # Our float32 engine against the float64 reference.  ReLU and max-pool
    # switches of activations within float rounding of zero (or of a tie)
    # make any float32 computation differ from float64 in the layers with
    # many activations; PyTorch's own float32 result measures that noise.
    # Accept 1e-4 of the tensor's scale, or three times PyTorch's float32
    # error, whichever is larger.
    # A parameter whose gradient passes through such a near switch (one at
    # its node or after it; after the PAL layer, any) may be off by a few
    # percent: accept 3e-2 of the scale there, and name the switches.
    order = [name for _, name, _ in nodes]
    pal_at = order.index(layer)
    last = max((order.index(n) for n in switches), default=-1)
    if switches:
        print("# near switches (node: count): " +
              ", ".join(f"{n}: {c}" for n, c in switches.items()))
    for k, ref in ref64.items():
        o = ours["grad." + k].double()
        scale = ref.abs().max().item()
        err = (o - ref).abs().max().item()
        err32 = (ref32[k] - ref).abs().max().item()
        node = order.index(k.rsplit(".", 1)[0])
        loose = node <= last or last > pal_at
        tol = max(1e-4 * scale + 1e-7, 3 * err32, 3e-2 * scale if loose else 0.0)
        report(err <= tol, f"grad.{k}: max error {err:.3g}, torch float32 {err32:.3g} "
               f"(scale {scale:.3g}{', near a switch' if loose else ''})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
