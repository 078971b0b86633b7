"""vidbench.read_frames and probe: the tensor `vidbench frames` writes, the seed's OpenCV
frames, errors that name the input and the cause, and no leak across many calls."""
import json
import os
import resource

import numpy as np
import pytest

import vidbench
from conftest import CLI, SANITIZED, SHARED, VIDEOS, cli

CLIPS = ["kinetics400/abseiling_k400.mp4", "kinetics400/R6llTwEh07w.mp4", "hmdb51/RATRACE_wave_f_nm_np1_fr_goo_37.avi"]
if SANITIZED:  # the sanitized build is slow; one mp4 and one avi still cover both containers
    CLIPS = CLIPS[::2]


@pytest.mark.parametrize("clip", CLIPS)
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_read_frames_equals_cli_npy(clip, dtype, tmp):
    path = os.path.join(VIDEOS, clip)
    out = tmp / "frames.npy"
    cli("-q", "frames", path, "-o", out, "--num-frames", 100, "--dtype", dtype)
    expected = np.load(out)
    mine = vidbench.read_frames(path, num_frames=100, dtype=dtype)
    assert mine.dtype == expected.dtype and mine.shape == expected.shape == (100, 224, 224, 3)
    assert mine.tobytes() == expected.tobytes(), f"{clip}: {np.count_nonzero(mine != expected)} values differ"


def test_read_frames_other_options_equal_cli(tmp):
    """stretch to MoViNet's 172, every frame, uint8: the same tensor as the CLI's."""
    path = os.path.join(VIDEOS, "kinetics400/mmaction2_demo.mp4")
    out = tmp / "stretch.npy"
    cli("-q", "frames", path, "-o", out, "--size", 172, "--resize", "stretch")
    mine = vidbench.read_frames(path, num_frames=0, size=172, resize="stretch", dtype="uint8")
    assert mine.tobytes() == np.load(out).tobytes()


def seed_load_video(path):
    """The seed's load_video + resampling (bench/seed_opencv_path.py): OpenCV decode, centre
    square, cv2.resize to 224, BGR->RGB, / 255.0, frame i = floor(i * count / 100), float32."""
    cv2 = pytest.importorskip("cv2")
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        y, x = frame.shape[:2]
        m = min(y, x)
        sx, sy = x // 2 - m // 2, y // 2 - m // 2
        frames.append(cv2.resize(frame[sy:sy + m, sx:sx + m], (224, 224))[:, :, [2, 1, 0]])
    cap.release()
    video = np.array(frames)
    return video[[i * len(video) // 100 for i in range(100)]]


@pytest.mark.parametrize("clip", CLIPS)
def test_read_frames_equals_opencv_seed_path(clip):
    """The criterion of tests/ref/video_opencv.py: the same uint8 values as the seed's OpenCV path
    (0 differing), and the float tensor exactly the seed's np.array(frames).astype('float32') / 255.0."""
    path = os.path.join(VIDEOS, clip)
    ref_u8 = seed_load_video(path)
    mine_u8 = vidbench.read_frames(path, dtype="uint8")
    assert mine_u8.shape == ref_u8.shape
    diff = np.abs(mine_u8.astype(np.int16) - ref_u8.astype(np.int16))
    assert diff.max() == 0, f"{clip}: max diff {diff.max()}, {np.count_nonzero(diff) / diff.size:.5%} differ"
    mine_f32 = vidbench.read_frames(path, dtype="float32")
    assert mine_f32.tobytes() == (mine_u8 / 255.0).astype(np.float32).tobytes()
    assert mine_f32.tobytes() == (ref_u8.astype(np.float32) / 255.0).tobytes()


@pytest.mark.parametrize("count", [False, True])
def test_probe_equals_cli_json(count):
    path = os.path.join(SHARED, "data/robustness/decord/corrupted.mp4")
    info = vidbench.probe(path, count_frames=count)
    ref = json.loads(cli("probe", "--format", "json", *(["--count"] if count else []), path).stdout)[0]
    for key in ("container", "codec", "width", "height", "pixel_format", "fps", "duration_seconds", "frame_count",
                "frame_count_exact", "lost_frames"):
        assert info[key] == ref[key], key
    assert (info["rotation_degrees"], list(info["sample_aspect_ratio"])) == (ref["rotation"], ref["sar"])
    assert info["file_bytes"] == os.path.getsize(path)


def test_missing_file_raises_file_not_found():
    path = os.path.join(VIDEOS, "no_such_clip.mp4")
    with pytest.raises(FileNotFoundError) as e:
        vidbench.read_frames(path)
    assert isinstance(e.value, vidbench.Error) and isinstance(e.value, vidbench.NotFoundError)
    assert path in str(e.value) and "No such file" in str(e.value)
    assert e.value.code == -6 and e.value.reason


@pytest.mark.parametrize("clip,cause", [("mp4parse/chunk_out_of_range.mp4", "not a readable media file"),
                                        ("mp4parse/zero_empty_stsc.mp4", "no frame could be decoded"),
                                        ("mp4parse/bipbop_nonfragment_header.mp4", "header only")])
def test_corrupt_clip_raises_with_the_library_message(clip, cause):
    path = os.path.join(SHARED, "data/robustness", clip)
    with pytest.raises(vidbench.FormatError) as e:
        vidbench.read_frames(path)
    assert isinstance(e.value, ValueError)
    assert path in str(e.value) and cause in str(e.value), str(e.value)
    # the CLI says the same
    assert str(e.value) in cli("frames", path, "-o", os.devnull, check=False).stderr


def test_bad_arguments_raise_value_error():
    path = os.path.join(VIDEOS, "kinetics400/abseiling_k400.mp4")
    with pytest.raises(ValueError, match="resize must be crop, pad, shortside or stretch, got 'zoom'"):
        vidbench.read_frames(path, resize="zoom")
    with pytest.raises(ValueError, match="dtype must be"):
        vidbench.read_frames(path, dtype="float64")
    with pytest.raises(ValueError, match="size"):
        vidbench.read_frames(path, size=0)
    with pytest.raises(vidbench.FormatError, match="fewer than"):
        vidbench.read_frames(path, min_frames=100000)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


@pytest.mark.skipif(SANITIZED, reason="RSS is meaningless under ASan (its quarantine holds freed memory); "
                                      "the library's own leaks are checked by LeakSanitizer in the C tests")
def test_no_leak_across_1000_read_frames():
    """1,000 calls (uint8 buffers handed to numpy, float32 copies, errors) keep RSS within 16 MiB;
    keeping the arrays instead grows it far past that, so the bound can fail."""
    path = os.path.join(SHARED, "data/robustness/mp4parse/h264_white_frame_sar_16_9.mp4")
    bad = os.path.join(SHARED, "data/robustness/mp4parse/chunk_out_of_range.mp4")
    bound = 16 << 20

    def one(i):
        if i % 10 == 9:
            with pytest.raises(vidbench.Error):
                vidbench.read_frames(bad)
            return None
        return vidbench.read_frames(path, num_frames=4, size=112, dtype="uint8" if i % 2 else "float32")

    for i in range(100):  # warm-up: allocator pools, FFmpeg's first-use tables
        one(i)
    before = rss_bytes()
    for i in range(1000):
        one(i)
    grown = rss_bytes() - before
    assert grown < bound, f"RSS grew {grown / 2**20:.1f} MiB over 1000 calls"
    kept = [one(i) for i in range(300)]  # the detector: ~100 MiB held must show
    assert rss_bytes() - before > bound, "keeping 300 clips did not grow RSS: the check measures nothing"
    del kept


def test_read_frames_releases_the_gil():
    """While one thread decodes, another keeps running Python: its longest pause is a fraction
    of the decode (holding the GIL would stall it for the whole decode)."""
    import threading
    import time

    path = os.path.join(VIDEOS, "kinetics400/abseiling_k400.mp4")
    done = threading.Event()
    span = {}

    def decode():
        start = time.perf_counter()
        vidbench.read_frames(path, num_frames=0, dtype="uint8")  # all decode, no float copy
        span["s"] = time.perf_counter() - start
        done.set()

    worker = threading.Thread(target=decode)
    last, longest = time.perf_counter(), 0.0
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    assert longest < 0.5 * span["s"], f"main thread paused {longest:.3f} s during a {span['s']:.3f} s decode"
