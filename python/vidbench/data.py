"""Data: video frames (the seed's data/load.py + data/process.py) and the Kinetics dataset
(the seed's data/fetch.py), over the library's video ingest and dataset manager."""
import os

from . import _vidbench
from ._progress import reporter

read_frames = _vidbench.read_frames
load_annotations = _vidbench.load_annotations


def default_data_dir():
    """The dataset root when none is given: $VIDBENCH_DATA_DIR, else ./data (as the CLI)."""
    return os.environ.get("VIDBENCH_DATA_DIR") or "data"


class Kinetics:
    """One Kinetics version/split under a DATA_DIR managed by the library (resumable download,
    safe unpacking, a cache of preprocessed clips; docs/dataset.md).

    The cache parameters (size, resize, num_frames, min_frames) select which prepared cache
    prepare(), clips() and load() use; prepare(**params) changes them."""

    def __init__(self, version=400, split="val", data_dir=None, mirror=None, size=224, resize="crop",
                 num_frames=0, min_frames=0):
        self.version = int(version)
        self.split = split
        self.data_dir = os.fspath(data_dir) if data_dir is not None else default_data_dir()
        self.mirror = mirror
        self.params = dict(size=size, resize=resize, num_frames=num_frames, min_frames=min_frames)
        os.makedirs(self.data_dir, exist_ok=True)
        self._dataset = _vidbench._Dataset(self.data_dir)
        self._pid = os.getpid()

    def __repr__(self):
        return f"Kinetics(version={self.version}, split={self.split!r}, data_dir={self.data_dir!r})"

    @property
    def dataset(self):
        """The library dataset; reopened in a forked child (an SQLite handle must not cross fork)."""
        if self._pid != os.getpid():
            self._dataset = _vidbench._Dataset(self.data_dir)
            self._pid = os.getpid()
        return self._dataset

    def download(self, n=None, jobs=1, progress=True):
        """Fetches partitions until n clips are on disk (None: all). progress: True for a tqdm bar
        when tqdm is installed, a callable taking the event dict, or False."""
        callback, bar = reporter(progress, "download")
        try:
            return self.dataset.download(self.version, self.split, num_videos=n or 0, mirror=self.mirror, jobs=jobs,
                                         progress=callback)
        finally:
            if bar is not None:
                bar.close()

    def prepare(self, n=None, jobs=1, overwrite=False, progress=True, **params):
        """Decodes and caches the first n clips (None: all) with the cache parameters."""
        unknown = set(params) - set(self.params)
        if unknown:
            raise TypeError(f"prepare: unknown parameters {sorted(unknown)} (known: {sorted(self.params)})")
        self.params.update(params)
        callback, bar = reporter(progress, "prepare")
        try:
            return self.dataset.prepare(self.version, self.split, num_videos=n or 0, jobs=jobs, overwrite=overwrite,
                                        progress=callback, **self.params)
        finally:
            if bar is not None:
                bar.close()

    def clips(self, prepared_only=False):
        """Clips on disk in download order: dicts with clip_id, youtube_id, label, path, status
        ('prepared' for the cache parameters, 'unpacked' or 'bad' with bad_reason)."""
        clips = self.dataset.clips(self.version, self.split, **self.params)
        return [c for c in clips if c["status"] == "prepared"] if prepared_only else clips

    def load(self, clip_id, dtype="uint8"):
        """A prepared clip from the cache: ndarray [T,S,S,3] (float32 = uint8 / 255.0)."""
        return self.dataset.load_prepared(self.version, self.split, clip_id, dtype=dtype, **self.params)

    def annotations(self):
        """{labels, counts, rows, unlabelled} of the downloaded annotation file."""
        return self.dataset.annotations(self.version, self.split)

    def classes(self):
        """Class names of the split's annotations, sorted."""
        return self.annotations()["labels"]

    def status(self):
        """Counts for this version/split (annotated, partitions, clips unpacked/prepared/bad)."""
        for entry in self.dataset.status():
            if entry["version"] == self.version and entry["split"] == _split_name(self.split):
                return entry
        return {"version": self.version, "split": _split_name(self.split), "annotated": 0, "partitions_total": 0,
                "partitions_done": 0, "partitions_failed": 0, "clips_unpacked": 0, "clips_prepared": 0,
                "clips_bad": 0}

    def close(self):
        self._dataset.close()


def _split_name(split):
    return "val" if split == "validate" else split
