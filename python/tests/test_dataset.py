"""vidbench.Kinetics over a file:// mirror of real shared clips under Kinetics names (two real
K400 val clips with their rows in the real val.csv, two under made-up ids whose rows are
appended): download with progress, listing with ground truth, prepare, the cache equal to
read_frames, status, classes, and the torch Dataset under DataLoader(num_workers=2)."""
import os
import tarfile

import numpy as np
import pytest

import vidbench
from conftest import SHARED

CLIPS = [  # (shared file, Kinetics file name, label, row to append to val.csv or None)
    ("data/videos/kinetics400/R6llTwEh07w.mp4", "R6llTwEh07w_000000_000010.mp4", "using segway", None),
    ("data/videos/kinetics400/SOX5yA1l24A.mp4", "SOX5yA1l24A_000299_000309.mp4", "using segway", None),
    ("data/videos/kinetics400/abseiling_k400.mp4", "vbabseil001_000000_000010.mp4", "abseiling",
     "abseiling,vbabseil001,0,10,val,0"),
    ("data/videos/kinetics400/mmaction2_demo.mp4", "vbarmwres01_000000_000010.mp4", "arm wrestling",
     "arm wrestling,vbarmwres01,0,10,val,0"),
]
PARAMS = dict(size=64, resize="crop", num_frames=8)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    os.makedirs(root / "400/val")
    os.makedirs(root / "400/annotations")
    with open(os.path.join(SHARED, "data/annotations/kinetics400/val.csv"), newline="") as f:
        annotations = f.read().rstrip("\n") + "\n"
    annotations += "".join(row + "\n" for *_, row in CLIPS if row)
    (root / "400/annotations/val.csv").write_text(annotations)
    with tarfile.open(root / "400/val/part_0.tar.gz", "w:gz") as tar:
        for source, name, _, _ in CLIPS:
            tar.add(os.path.join(SHARED, source), arcname=name)
    (root / "400/val/k400_val_path.txt").write_text("https://s3.amazonaws.com/kinetics/400/val/part_0.tar.gz\n")
    return f"file://{root}/"


@pytest.fixture(scope="module")
def kinetics(mirror, tmp_path_factory):
    k = vidbench.Kinetics(400, "val", data_dir=tmp_path_factory.mktemp("data"), mirror=mirror, **PARAMS)
    events = []
    result = k.download(progress=events.append)
    assert result["clips_on_disk"] == 4 and result["partitions_done"] == 1, result
    assert any(e["event"] == "partition_done" for e in events), events
    prepared = k.prepare(progress=False)
    assert prepared["clips_cached"] == 4 and prepared["clips_bad"] == 0, prepared
    return k


def test_clips_listed_with_their_ground_truth(kinetics):
    clips = kinetics.clips()
    assert sorted((c["clip_id"] + ".mp4", c["label"]) for c in clips) == sorted((n, l) for _, n, l, _ in CLIPS)
    assert all(c["status"] == "prepared" and os.path.exists(c["path"]) for c in clips)
    assert {c["youtube_id"] for c in clips} == {n[:11] for _, n, _, _ in CLIPS}


def test_cache_equals_read_frames(kinetics):
    for c in kinetics.clips():
        cached = kinetics.load(c["clip_id"])
        assert cached.tobytes() == vidbench.read_frames(c["path"], dtype="uint8", **PARAMS).tobytes(), c["clip_id"]
        assert kinetics.load(c["clip_id"], dtype="float32").tobytes() == (cached / 255.0).astype(np.float32).tobytes()


def test_status_and_classes(kinetics):
    status = kinetics.status()
    assert (status["clips_unpacked"], status["clips_prepared"], status["partitions_done"]) == (4, 4, 1), status
    # the real K400 val annotations: 400 classes; 19,881 rows + the 2 appended
    real = vidbench.load_annotations(os.path.join(SHARED, "data/annotations/kinetics400/val.csv"))
    assert len(kinetics.classes()) == 400 and kinetics.classes() == real["labels"]
    assert kinetics.annotations()["rows"] == real["rows"] + 2


def test_uncached_clip_and_bad_arguments(kinetics):
    other_size = vidbench.Kinetics(400, "val", data_dir=kinetics.data_dir, size=32)  # never prepared at 32
    with pytest.raises(vidbench.NotFoundError, match="R6llTwEh07w_000000_000010"):
        other_size.load("R6llTwEh07w_000000_000010")
    with pytest.raises(ValueError, match="version must be 400, 600 or 700"):
        vidbench.Kinetics(500, "val", data_dir=kinetics.data_dir).clips()
    with pytest.raises(ValueError, match="split must be"):
        vidbench.Kinetics(400, "dev", data_dir=kinetics.data_dir).clips()


def test_progress_callback_exception_stops_and_propagates(mirror, tmp):
    k = vidbench.Kinetics(400, "val", data_dir=tmp / "data", mirror=mirror, **PARAMS)
    k.download(progress=False)

    class Stop(Exception):
        pass

    def stop(event):
        raise Stop(event["event"])

    with pytest.raises(Stop):
        k.prepare(progress=stop)
    assert k.status()["clips_prepared"] < 4


def test_download_from_a_missing_mirror_names_the_url(tmp):
    k = vidbench.Kinetics(400, "val", data_dir=tmp / "data", mirror=f"file://{tmp}/nowhere/")
    with pytest.raises(vidbench.Error, match="nowhere"):
        k.download(progress=False)


def test_torch_dataloader_yields_every_cached_clip_once_with_2_workers(kinetics):
    torch = pytest.importorskip("torch", reason="torch (Debian python3-torch) is not installed")
    from vidbench.torch import KineticsClips

    dataset = KineticsClips(kinetics)
    assert len(dataset) == 4
    expected = {}
    for c in kinetics.clips():
        frames = kinetics.load(c["clip_id"], dtype="float32").transpose(3, 0, 1, 2)
        expected[frames.tobytes()] = (c["clip_id"], dataset.classes.index(c["label"]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, shuffle=True, num_workers=2)
    seen = []
    for batch, labels in loader:
        assert batch.shape == (len(labels), 3, 8, 64, 64) and batch.dtype == torch.float32
        for clip, label in zip(batch, labels):
            clip_id, expected_label = expected[clip.numpy().tobytes()]
            assert int(label) == expected_label
            seen.append(clip_id)
    assert sorted(seen) == sorted(c["clip_id"] for c in kinetics.clips())
