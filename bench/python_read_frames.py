"""From Python, one clip to the seed's I3D input (100 frames, 224 x 224 centre square, RGB,
float32 in [0,1]) three ways, interleaved clip by clip so machine noise hits all alike:
  vidbench     vidbench.read_frames(path)  (the bindings; the C core)
  opencv       the seed's loop (bench/seed_opencv_path.py: cv2.VideoCapture, crop_center_square,
               cv2.resize, BGR->RGB, np.array(frames) / 255.0, resampled, float32)
  torchvision  torchvision.io.read_video (PyAV) of the whole clip, then the same crop, bilinear
               resize (torch, antialias off), resampling and / 255
Prints per-method seconds per clip (median over repeats of each clip, summed over clips),
clips/s and the ratios over the OpenCV path.

usage: /usr/bin/python3 bench/python_read_frames.py [--repeat R] [CLIP...]
  (run from the repository root after `make` and `python3 python/setup.py build_ext --inplace`;
  default clips: the Kinetics-400 clips in ../shared/data/videos/kinetics400)"""
import argparse
import glob
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
try:
    import vidbench
except ImportError:
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import vidbench
from seed_opencv_path import load_video  # the seed's own loop, not a copy

NUM_FRAMES = 100


def with_vidbench(path):
    return vidbench.read_frames(path, num_frames=NUM_FRAMES, size=224, resize="crop", dtype="float32")


def with_opencv(path):
    video = load_video(path)
    count = len(video)
    return video[[i * count // NUM_FRAMES for i in range(NUM_FRAMES)]].astype(np.float32)


def with_torchvision(path):
    import torch
    from torchvision.io import read_video

    video, _, _ = read_video(path, pts_unit="sec", output_format="TCHW")
    _, _, h, w = video.shape
    m = min(h, w)
    y, x = h // 2 - m // 2, w // 2 - m // 2
    count = video.shape[0]
    picked = video[[i * count // NUM_FRAMES for i in range(NUM_FRAMES)], :, y:y + m, x:x + m]
    resized = torch.nn.functional.interpolate(picked.float(), size=(224, 224), mode="bilinear", align_corners=False,
                                              antialias=False)
    return (resized / 255.0).permute(0, 2, 3, 1).contiguous().numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("clips", nargs="*")
    args = parser.parse_args()
    clips = args.clips or sorted(glob.glob(os.path.join(os.path.dirname(ROOT), "shared/data/videos/kinetics400/*.mp4")))
    methods = {"vidbench": with_vidbench, "opencv": with_opencv}
    try:
        import torchvision.io  # noqa: F401
        import av  # noqa: F401  (read_video's backend)
        methods["torchvision"] = with_torchvision
    except ImportError as e:
        print(f"torchvision row skipped: {e} (Debian python3-torchvision and python3-av)")
    for f in methods.values():  # warm-up: library loading is not the path's cost
        out = f(clips[0])
        assert out.shape == (NUM_FRAMES, 224, 224, 3) and out.dtype == np.float32
    times = {name: {clip: [] for clip in clips} for name in methods}
    names = list(methods)
    for r in range(args.repeat):
        for c, clip in enumerate(clips):
            k = (r + c) % len(names)  # rotate the order so no method always runs first
            for name in names[k:] + names[:k]:
                start = time.perf_counter()
                methods[name](clip)
                times[name][clip].append(time.perf_counter() - start)
    total = {name: sum(statistics.median(t) for t in per_clip.values()) for name, per_clip in times.items()}
    print(f"{len(clips)} clips x {args.repeat} repeats, {NUM_FRAMES} frames float32 224x224 crop, "
          f"{os.cpu_count()} cores, median per clip")
    print(f"{'method':<12}{'s/clip':>9}{'clips/s':>9}{'vs opencv':>11}")
    for name in names:
        per_clip = total[name] / len(clips)
        print(f"{name:<12}{per_clip:>9.3f}{1 / per_clip:>9.2f}{total['opencv'] / total[name]:>10.2f}x")


if __name__ == "__main__":
    main()
