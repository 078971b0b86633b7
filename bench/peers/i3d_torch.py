#!/usr/bin/python3
"""PyTorch peer of `vidbench bench i3d --peers`: DeepMind's RGB I3D (kinetics-i3d i3d.py) written
again in PyTorch from the same safetensors file, sharing no code with vidbench's engine.

Run by the benchmark as a child process (Debian's python3-torch, /usr/bin/python3):
    i3d_torch.py --weights W.safetensors --input CLIP.npy --threads N [--export-onnx M.onnx]
CLIP.npy is float32 [N,T,224,224,3] in [0,1], exactly what vidbench's forward gets; the
network maps it to 2x-1 inside its forward, as vidbench does, so both time the same work.
Line protocol, one line each way (the peer's stdout carries nothing else):
    peer -> "ready torch VERSION" once loaded, or "skip WHY" (no torch) and exit 0,
            or "error WHY" and exit 1
    "run eager OUT.npy" / "run script OUT.npy" -> one forward; logits float32 [N,classes] to
            OUT.npy; reply "ok MS" (the forward alone, wall clock) or "error WHY"
    "quit" or end of input -> exit 0
Engines: eager (nn.Module in eval mode, BatchNorm as its own op) and script (torch.jit.trace
+ torch.jit.freeze, which folds BatchNorm into the convolutions). --export-onnx writes the same
module with torch.onnx.export for the ONNX Runtime peer.

Semantics (i3d.py and Sonnet defaults): TensorFlow SAME padding (out = ceil(in/stride), the odd
pixel after) for every conv and max-pool, padded max-pool cells never win, BatchNorm
(x - mean) / sqrt(var + 1e-3) + beta (gamma when the file has one), ReLU, branches concatenated
0..3, Logits = avg-pool 2x7x7 VALID, 1x1x1 conv with bias, mean over time.
VIDBENCH_PEER_FAULT=bn-epsilon (tests only) uses PyTorch's default epsilon 1e-5 instead: a
realistic porting slip the agreement check must catch.
"""
import argparse
import json
import os
import sys
import time
import warnings

PROTOCOL = sys.stdout
sys.stdout = sys.stderr   # anything a library prints must not reach the protocol channel


def reply(line):
    PROTOCOL.write(line + "\n")
    PROTOCOL.flush()


try:
    import numpy as np
except ImportError as e:   # an interpreter without numpy has no torch either: a missing peer
    reply(f"skip no numpy in {sys.executable} ({e})")
    sys.exit(0)


def read_safetensors(path):
    """name -> float32 numpy array; the header's offsets are checked against the file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: shorter than a safetensors header")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > len(data) - 8:
        raise ValueError(f"{path}: header length {header_len} exceeds the file")
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected F32")
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if not 0 <= begin <= end <= len(data) - base or end - begin != 4 * count:
            raise ValueError(f"{path}: tensor {name} has bad offsets {begin}..{end}")
        tensors[name] = np.frombuffer(data, "<f4", count, base + begin).reshape(info["shape"])
    return tensors


def same_pads(size, kernel, stride):
    """TensorFlow SAME: (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--export-onnx")
    args = ap.parse_args()
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except ImportError as e:
        reply(f"skip no torch in {sys.executable} ({e})")
        return 0
    warnings.filterwarnings("ignore")   # tracer and exporter chatter
    torch.set_num_threads(args.threads)
    bn_epsilon = 1e-5 if os.environ.get("VIDBENCH_PEER_FAULT") == "bn-epsilon" else 1e-3

    weights = read_safetensors(args.weights)
    prefix = "RGB/inception_i3d/" if "RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w" in weights else ""
    used = set()

    def tensor(name, required=True):
        full = prefix + name
        if full not in weights:
            if required:
                raise KeyError(f"{args.weights}: tensor {full} is missing")
            return None
        used.add(full)
        return torch.from_numpy(weights[full].copy())

    clip = np.load(args.input)
    if clip.dtype != np.float32 or clip.ndim != 5 or clip.shape[4] != 3:
        raise ValueError(f"{args.input}: expected float32 [N,T,H,W,3], got {clip.dtype} {clip.shape}")

    class Unit3D(nn.Module):
        """conv (SAME, no bias) + BatchNorm + ReLU, or the logits conv with bias; pads fixed
        for the input size it is built for."""

        def __init__(self, scope, kernel, stride, in_dims, logits=False):
            super().__init__()
            w = tensor(scope + "/conv_3d/w")   # TF [kt,kh,kw,cin,cout]
            if w.shape[:3] != (kernel,) * 3:
                raise ValueError(f"{scope}: kernel {tuple(w.shape)}, expected {kernel}^3")
            cin, cout = w.shape[3], w.shape[4]
            self.conv = nn.Conv3d(cin, cout, kernel, stride, bias=logits)
            self.conv.weight.data = w.permute(4, 3, 0, 1, 2).contiguous()
            self.pads = []
            for size in reversed(in_dims):   # F.pad order: W, H, T
                self.pads += same_pads(size, kernel, stride)
            self.out_dims = tuple(-(-d // stride) for d in in_dims)
            self.out_channels = cout
            if logits:
                self.conv.bias.data = tensor(scope + "/conv_3d/b").reshape(-1)
                self.bn = None
            else:
                self.bn = nn.BatchNorm3d(cout, eps=bn_epsilon)
                gamma = tensor(scope + "/batch_norm/gamma", required=False)
                self.bn.weight.data = gamma.reshape(-1) if gamma is not None else torch.ones(cout)
                self.bn.bias.data = tensor(scope + "/batch_norm/beta").reshape(-1)
                self.bn.running_mean.data = tensor(scope + "/batch_norm/moving_mean").reshape(-1)
                self.bn.running_var.data = tensor(scope + "/batch_norm/moving_variance").reshape(-1)

        def forward(self, x):
            if any(self.pads):
                x = F.pad(x, self.pads)
            x = self.conv(x)
            return F.relu(self.bn(x)) if self.bn is not None else x

    class MaxPoolSame(nn.Module):
        def __init__(self, kernel, stride, in_dims):
            super().__init__()
            self.kernel, self.stride = kernel, stride
            self.pads = []
            for size, k, s in reversed(list(zip(in_dims, kernel, stride))):
                self.pads += same_pads(size, k, s)
            self.out_dims = tuple(-(-d // s) for d, s in zip(in_dims, stride))

        def forward(self, x):
            # -inf padding: a padded cell never wins (TensorFlow ignores it)
            return F.max_pool3d(F.pad(x, self.pads, value=float("-inf")), self.kernel, self.stride)

    class Mixed(nn.Module):
        def __init__(self, name, in_dims):
            super().__init__()
            b2b = "Conv3d_0a_3x3" if name == "Mixed_5b" else "Conv3d_0b_3x3"   # i3d.py's quirk
            self.b0 = Unit3D(f"{name}/Branch_0/Conv3d_0a_1x1", 1, 1, in_dims)
            self.b1a = Unit3D(f"{name}/Branch_1/Conv3d_0a_1x1", 1, 1, in_dims)
            self.b1b = Unit3D(f"{name}/Branch_1/Conv3d_0b_3x3", 3, 1, in_dims)
            self.b2a = Unit3D(f"{name}/Branch_2/Conv3d_0a_1x1", 1, 1, in_dims)
            self.b2b = Unit3D(f"{name}/Branch_2/{b2b}", 3, 1, in_dims)
            self.b3p = MaxPoolSame((3, 3, 3), (1, 1, 1), in_dims)
            self.b3 = Unit3D(f"{name}/Branch_3/Conv3d_0b_1x1", 1, 1, in_dims)
            self.out_dims = in_dims

        def forward(self, x):
            return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)),
                              self.b3(self.b3p(x))], 1)

    class I3D(nn.Module):
        def __init__(self, frames, height, width):
            super().__init__()
            layers = []
            dims = (frames, height, width)

            def add(layer):
                nonlocal dims
                layers.append(layer)
                dims = layer.out_dims

            add(Unit3D("Conv3d_1a_7x7", 7, 2, dims))
            add(MaxPoolSame((1, 3, 3), (1, 2, 2), dims))
            add(Unit3D("Conv3d_2b_1x1", 1, 1, dims))
            add(Unit3D("Conv3d_2c_3x3", 3, 1, dims))
            add(MaxPoolSame((1, 3, 3), (1, 2, 2), dims))
            add(Mixed("Mixed_3b", dims))
            add(Mixed("Mixed_3c", dims))
            add(MaxPoolSame((3, 3, 3), (2, 2, 2), dims))
            for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
                add(Mixed(name, dims))
            add(MaxPoolSame((2, 2, 2), (2, 2, 2), dims))
            add(Mixed("Mixed_5b", dims))
            add(Mixed("Mixed_5c", dims))
            if dims[0] < 2 or dims[1:] != (7, 7):
                raise ValueError(f"Mixed_5c is {dims}, the 2x7x7 VALID average pool needs T'>=2 and 7x7")
            self.features = nn.Sequential(*layers)
            self.logits = Unit3D("Logits/Conv3d_0c_1x1", 1, 1, (dims[0] - 1, 1, 1), logits=True)

        def forward(self, clip):   # clip: [N,T,H,W,3] in [0,1]
            x = (clip * 2 - 1).permute(0, 4, 1, 2, 3).contiguous()
            x = self.features(x)
            x = F.avg_pool3d(x, (2, 7, 7), 1)     # VALID, [N,C,T'-1,1,1]
            x = self.logits(x)
            return x.mean(dim=(2, 3, 4))          # squeeze space, mean over time: [N,classes]

    model = I3D(clip.shape[1], clip.shape[2], clip.shape[3]).eval()
    unused = sorted(set(weights) - used)
    if unused:
        raise ValueError(f"{args.weights}: unexpected tensor {unused[0]} (not part of RGB I3D)")
    x = torch.from_numpy(clip)
    with torch.no_grad():
        scripted = torch.jit.freeze(torch.jit.trace(model, x))
        # the profiling executor specializes the graph on its first runs: run them here
        for _ in range(2):
            scripted(x)
        if args.export_onnx:
            torch.onnx.export(model, x, args.export_onnx, input_names=["clip"], output_names=["logits"],
                              opset_version=13, do_constant_folding=True)
    engines = {"eager": model, "script": scripted}
    reply(f"ready torch {torch.__version__}")

    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] != "run" or len(words) != 3 or words[1] not in engines:
            reply(f"error unknown command: {line.strip()}")
            continue
        try:
            with torch.no_grad():
                t0 = time.perf_counter()
                logits = engines[words[1]](x)
                ms = (time.perf_counter() - t0) * 1e3
            np.save(words[2], logits.numpy().astype("<f4"))
            reply(f"ok {ms:.3f}")
        except Exception as e:   # report and keep serving: the benchmark decides
            reply(f"error {type(e).__name__}: {e}".replace("\n", " "))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:
        reply(f"error {type(e).__name__}: {e}".replace("\n", " "))
        sys.exit(1)
