"""Visualisation (the seed's visualize.py): frame grids with matplotlib, animated GIFs, and
the HTML report `vidbench report` writes."""
import os

import numpy as np

from . import _vidbench


def as_uint8(frames):
    """uint8 frames from uint8 or float frames in [0,1]."""
    frames = np.asarray(frames)
    if frames.dtype == np.uint8:
        return frames
    return np.clip(np.rint(frames * 255.0), 0, 255).astype(np.uint8)


def write_gif(frames, path, fps=10):
    """An animated GIF of frames [T,H,W,3] (uint8, or float in [0,1])."""
    _vidbench.write_gif(np.ascontiguousarray(as_uint8(frames)), path, fps)
    return path


def plot_frames(frames, count=8, title=None, axes_row=None):
    """count frames spread over the clip in one matplotlib row; returns the figure."""
    import matplotlib.pyplot as plt

    frames = as_uint8(frames)
    picked = np.linspace(0, len(frames) - 1, num=min(count, len(frames))).round().astype(int)
    if axes_row is None:
        fig, axes_row = plt.subplots(1, len(picked), figsize=(2 * len(picked), 2.3))
    axes_row = np.atleast_1d(axes_row)
    for ax, i in zip(axes_row, picked):
        ax.imshow(frames[i])
        ax.set_title(f"frame {i}", fontsize=8)
        ax.axis("off")
    if title:
        axes_row[0].figure.suptitle(title)
    return axes_row[0].figure


def default_summary(results):
    """The summary `vidbench report` pairs with a results CSV: NAME.summary.json beside it,
    else summary.json in its folder, else None."""
    stem, _ = os.path.splitext(os.fspath(results))
    for candidate in (stem + ".summary.json", os.path.join(os.path.dirname(os.fspath(results)), "summary.json")):
        if os.access(candidate, os.R_OK):
            return candidate
    return None


def report(output="report.html", results=None, summary=None, evaluation=None, **options):
    """Writes the HTML report (`vidbench report`) and returns its path. evaluation: a Summary
    returned by vidbench.evaluate (its CSV and summary.json). Options: label_map, data_dir,
    version, split, videos (list of files or folders), title, sample, num_frames, resize,
    previews, probe, preview_size."""
    if evaluation is not None:
        results = results or evaluation.csv_path
        summary = summary or evaluation.summary_path
    if results is not None and summary is None:
        summary = default_summary(results)
    _vidbench.report(output, results=results, summary=summary, **options)
    return output
