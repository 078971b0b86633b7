"""cv2.resize(INTER_LINEAR) on uint8 is the reference for our resize: random BGR images of
many sizes (down, up, exact 2x, odd widths whose rows end in OpenCV's scalar tail) go
through `vidbench frames IMAGE.png --resize stretch --size S` (FFmpeg reads the PNG) and
must equal cv2.resize(image, (S, S)) exactly."""
import os
import subprocess
import sys

import cv2
import numpy as np

CLI = os.environ["VB_CLI"]
TMP = os.environ["VB_TEST_TMP"]
failures = 0
rng = np.random.default_rng(2024)
cases = [(320, 240, 224), (454, 256, 224), (200, 150, 170), (100, 60, 21), (448, 448, 224),
         (300, 200, 250), (57, 33, 13), (1920, 1080, 172), (7, 5, 64), (256, 256, 224)]
for w, h, s in cases:
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    png = os.path.join(TMP, "resize_in.png")
    out = os.path.join(TMP, "resize_out.npy")
    cv2.imwrite(png, image)
    proc = subprocess.run([CLI, "-q", "frames", png, "-o", out, "--resize", "stretch", "--size", str(s)],
                          capture_output=True, text=True)
    name = f"{w}x{h} -> {s}x{s}"
    if proc.returncode != 0:
        print(f"FAIL: {name}: vidbench exit {proc.returncode}: {proc.stderr.strip()}")
        failures += 1
        continue
    ours = np.load(out)[0][:, :, ::-1]  # RGB -> BGR like cv2
    ref = cv2.resize(image, (s, s))
    diff = np.abs(ours.astype(int) - ref)
    ok = diff.max() == 0
    print(("PASS: " if ok else "FAIL: ") + f"{name}: {np.count_nonzero(diff)} values differ, max diff {diff.max()}")
    failures += 0 if ok else 1
sys.exit(1 if failures else 0)
