"""The seed kit's video path, timed: cv2.VideoCapture, crop_center_square, cv2.resize to
224, BGR->RGB, np.array(frames) / 255.0, resampled to N frames (frame i = floor(i*count/N))
and made float32, as the seed feeds I3D. Run by `vidbench bench video` in the same run as
the C path; prints one line: `clips_per_second <value> clips <n> seconds <t>`.
usage: seed_opencv_path.py REPEAT NUM_FRAMES CLIP..."""
import sys
import time

import cv2
import numpy as np


def crop_center_square(frame):
    y, x = frame.shape[0:2]
    min_dim = min(y, x)
    start_x = (x // 2) - (min_dim // 2)
    start_y = (y // 2) - (min_dim // 2)
    return frame[start_y:start_y + min_dim, start_x:start_x + min_dim]


def load_video(path, max_frames=0, resize=(224, 224)):
    cap = cv2.VideoCapture(path)
    frames = []
    try:
        while True:
            ret, frame = cap.read()
            if not ret:
                break
            frame = crop_center_square(frame)
            frame = cv2.resize(frame, resize)
            frame = frame[:, :, [2, 1, 0]]
            frames.append(frame)
            if len(frames) == max_frames:
                break
    finally:
        cap.release()
    return np.array(frames) / 255.0


def main():
    repeat, num_frames, clips = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    load_video(clips[0])  # warm-up: library loading is not the path's cost
    start = time.perf_counter()
    done = 0
    for _ in range(repeat):
        for path in clips:
            video = load_video(path)
            count = len(video)
            indices = [i * count // num_frames for i in range(num_frames)]
            clip = video[indices].astype(np.float32)
            assert clip.shape == (num_frames, 224, 224, 3)
            done += 1
    seconds = time.perf_counter() - start
    print(f"clips_per_second {done / seconds:.4f} clips {done} seconds {seconds:.4f}")


if __name__ == "__main__":
    main()
