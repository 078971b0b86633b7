"""The seed kit's video path, timed: cv2.VideoCapture, crop_center_square, cv2.resize to
224, BGR->RGB, np.array(frames).astype('float32') / 255.0 (the seed's own expression: float32
first, then the division), resampled to N frames (frame i = floor(i*count/N)) as the seed
feeds I3D. Run by `vidbench bench video` in the same run as the C path, and timed like it:
one warm-up clip outside the timed loop, then wall and CPU time (time.process_time: every
thread of this process, user + system) over the same REPEAT x CLIP loop; interpreter start
and imports are outside it. Prints one line:
`clips_per_second <value> clips <n> seconds <t> cpu_seconds <c>`.
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
    return np.array(frames).astype('float32') / 255.0


def main():
    repeat, num_frames, clips = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    load_video(clips[0])  # warm-up: library loading is not the path's cost
    start, cpu_start = time.perf_counter(), time.process_time()
    done = 0
    for _ in range(repeat):
        for path in clips:
            video = load_video(path)
            count = len(video)
            indices = [i * count // num_frames for i in range(num_frames)]
            clip = video[indices]
            assert clip.shape == (num_frames, 224, 224, 3) and clip.dtype == np.float32
            done += 1
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"clips_per_second {done / seconds:.4f} clips {done} seconds {seconds:.4f} cpu_seconds {cpu_seconds:.4f}")


if __name__ == "__main__":
    main()
