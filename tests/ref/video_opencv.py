"""Acceptance 1: `vidbench frames --resize crop` equals the seed kit's OpenCV pipeline
(cv2.VideoCapture, crop_center_square, cv2.resize to 224, BGR->RGB) frame for frame on every
clip in $VB_SHARED/data/videos: same frame count and every uint8 value identical (max diff 0,
as README and docs/video.md claim). Also: the float32 output equals the seed's
np.array(frames).astype('float32') / 255.0 exactly, and --resize stretch/--size 172 equals
cv2.resize of the whole frame. OpenCV is the reference."""
import os
import subprocess
import sys

import cv2
import numpy as np

SHARED = os.environ["VB_SHARED"]
CLI = os.environ["VB_CLI"]
TMP = os.environ["VB_TEST_TMP"]
SANITIZED = os.environ.get("VB_SANITIZED") == "1"
failures = 0


def check(ok, name, detail):
    global failures
    print(("PASS: " if ok else "FAIL: ") + name + ": " + detail)
    if not ok:
        failures += 1


def seed_frames(path, transform):
    """The seed's load_video loop (TF Hub action recognition tutorial)."""
    cap = cv2.VideoCapture(path)
    frames = []
    try:
        while True:
            ret, frame = cap.read()
            if not ret:
                break
            frames.append(transform(frame)[:, :, [2, 1, 0]])
    finally:
        cap.release()
    return np.array(frames)


def crop_center_square(frame):
    y, x = frame.shape[0:2]
    min_dim = min(y, x)
    start_x = (x // 2) - (min_dim // 2)
    start_y = (y // 2) - (min_dim // 2)
    return frame[start_y:start_y + min_dim, start_x:start_x + min_dim]


def ours(path, out_name, *args):
    out = os.path.join(TMP, out_name)
    proc = subprocess.run([CLI, "-q", "frames", path, "-o", out, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        return None, proc.stderr.strip()
    return np.load(out), ""


def compare(name, mine, ref):
    if mine is None:
        check(False, name, "vidbench failed")
        return
    if mine.shape != ref.shape:
        check(False, name, f"shape {mine.shape} != OpenCV {ref.shape}")
        return
    diff = np.abs(mine.astype(np.int16) - ref.astype(np.int16))
    frac = float(np.count_nonzero(diff)) / diff.size
    maxd = int(diff.max()) if diff.size else 0
    check(maxd == 0, name, f"{ref.shape[0]} frames, differing values {frac * 100:.4f}%, max diff {maxd}")


def main():
    clips = []
    for root, _, files in os.walk(os.path.join(SHARED, "data/videos")):
        for f in sorted(files):
            if f.lower().endswith((".mp4", ".avi", ".mov", ".mkv", ".webm")):
                clips.append(os.path.join(root, f))
    clips.sort()
    if SANITIZED:  # the sanitized build is slow; a subset still checks every codec family
        clips = [c for c in clips if "kinetics400/abseiling" in c or "hmdb51/RATRACE" in c]
    for path in clips:
        rel = os.path.relpath(path, SHARED)
        ref = seed_frames(path, lambda f: cv2.resize(crop_center_square(f), (224, 224)))
        mine, why = ours(path, "crop.npy")
        if mine is None:
            check(False, rel, why)
            continue
        compare(f"crop {rel}", mine, ref)
        if path.endswith(".mp4"):
            # the benchmarked configuration: resampled to 100 frames, which leaves unused
            # non-reference H.264 frames undecoded, equals the seed's frames picked by its rule
            mine, why = ours(path, "crop100.npy", "--num-frames", "100")
            picked = ref[[i * len(ref) // 100 for i in range(100)]] if len(ref) else ref
            compare(f"crop --num-frames 100 {rel}", mine, picked)

    # the unusual inputs (10-bit, full range, HEVC, AV1, VFR, rotation) match OpenCV too;
    # decord/corrupted.mp4: OpenCV stops at the damaged packet, we keep decoding after it
    for rel in ["decord/unordered.mov", "mmaction2_demo_skeleton_vfr.mp4", "mp4parse/hevc_white_frame.mp4",
                "mp4parse/tiny_av1.mp4", "mp4parse/h264_white_frame_sar_16_9.mp4", "torchcodec/av1_video.mkv",
                "torchcodec/bt709_full_range.mp4", "torchcodec/h264_10bits.mp4", "torchcodec/h265_video.mp4",
                "decord/corrupted.mp4"]:
        if SANITIZED and rel not in ("torchcodec/h264_10bits.mp4", "torchcodec/h265_video.mp4"):
            continue
        path = os.path.join(SHARED, "data/robustness", rel)
        ref = seed_frames(path, lambda f: cv2.resize(crop_center_square(f), (224, 224)))
        mine, why = ours(path, "rob.npy")
        if rel == "decord/corrupted.mp4" and mine is not None and len(mine) > len(ref):
            check(len(ref) > 0, f"{rel}: OpenCV stops after {len(ref)} frames, we keep {len(mine)}", "")
            mine = mine[:len(ref)]
        compare(f"crop robustness/{rel}", mine, ref)

    # float32 as the seed returns it, and the stretch mode MoViNet uses, on one clip each
    path = os.path.join(SHARED, "data/videos/kinetics400/abseiling_k400.mp4")
    ref = seed_frames(path, lambda f: cv2.resize(crop_center_square(f), (224, 224)))
    mine, why = ours(path, "float.npy", "--dtype", "float32")
    expected = ref.astype("float32") / 255.0   # the seed's expression (float32 division)
    ok = mine is not None and mine.dtype == np.float32 and mine.shape == expected.shape
    if ok:
        err = float(np.abs(mine - expected).max())
        # exact: our float32 v / 255.0f is the seed's float32 division, value for value (and
        # equals float64 v / 255.0 rounded to float32, which the second comparison checks)
        check(np.array_equal(mine, expected) and np.array_equal(mine, (ref / 255.0).astype(np.float32)),
              "float32 equals np.array(frames).astype('float32') / 255.0 exactly",
              f"{int(np.count_nonzero(mine != expected))} values differ, max abs diff {err:.3g}")
    else:
        check(False, "float32 equals np.array(frames).astype('float32') / 255.0", why or "wrong dtype or shape")

    path = os.path.join(SHARED, "data/videos/hmdb51/RATRACE_wave_f_nm_np1_fr_goo_37.avi")
    ref = seed_frames(path, lambda f: cv2.resize(f, (172, 172)))
    mine, why = ours(path, "stretch.npy", "--resize", "stretch", "--size", "172")
    compare("stretch 172 hmdb51/RATRACE", mine, ref)

    # --resize aspect (three-crop testing): short side to S, long side int(long * S / short + 0.5)
    # as MMAction2's Resize(scale=(-1, S)) computes it, no crop; a landscape and a rotated clip
    def keep_aspect(f, s):
        h, w = f.shape[:2]
        short, long_ = min(w, h), max(w, h)
        long_out = int(long_ * s / short + 0.5)
        return cv2.resize(f, (s, long_out) if w <= h else (long_out, s))
    for rel, size in [("data/videos/kinetics400/R6llTwEh07w.mp4", 224),
                      ("data/robustness/decord/video_90.mov", 112)]:
        path = os.path.join(SHARED, rel)
        ref = seed_frames(path, lambda f: keep_aspect(f, size))
        mine, why = ours(path, "aspect.npy", "--resize", "aspect", "--size", str(size))
        compare(f"aspect {size} {rel} ({ref.shape[2]}x{ref.shape[1]})", mine, ref)

    # display rotation: cv2 4.6 applies it (CAP_PROP_ORIENTATION_AUTO)
    for rel in ["data/robustness/decord/video_90.mov", "data/robustness/decord/video_180.mov",
                "data/robustness/mp4parse/video_rotation_90.mp4"]:
        path = os.path.join(SHARED, rel)
        ref = seed_frames(path, lambda f: f)
        mine, why = ours(path, "rot.npy", "--resize", "stretch", "--size", "64")
        ref_small = np.array([cv2.resize(f[:, :, [2, 1, 0]], (64, 64))[:, :, [2, 1, 0]] for f in ref])
        if rel.endswith("video_90.mov"):
            check(ref.shape[1:3] == (568, 320), "video_90.mov rotates to 320 wide, 568 high",
                  f"OpenCV frame shape {ref.shape[1:3]}")
        compare(f"rotation {rel}", mine, ref_small)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
