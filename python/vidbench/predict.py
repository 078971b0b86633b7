"""Prediction at scale (the seed's predict.py and scripts/evaluate.py): vidbench.evaluate runs
the library's evaluation session exactly as `vidbench evaluate @config --flag value ...`."""
import json
import os
import warnings

from . import _vidbench
from ._progress import reporter


class Summary(dict):
    """The evaluation's summary.json as a dict, with the output paths as attributes
    (csv_path, summary_path, store_path) and the run's model (weights_path, model_kind...)."""

    def accuracy_lines(self):
        """The seed's report lines (as `vidbench evaluate` prints them)."""
        n = self.get("top_n", 5)
        return (f"top-1 accuracy: {self['top1_accuracy'] * 100:.2f}%\n"
                f"top-{n} accuracy: {self['topn_accuracy'] * 100:.2f}%\n"
                f"mean class accuracy: {self['mean_class_accuracy'] * 100:.2f}%")


def config_args(config=None, **overrides):
    """The argument list: "@config" then "--flag value" per override (True: a bare --flag,
    False/None: left out), in the order given."""
    args = ["@" + os.fspath(config)] if config else []
    for flag, value in overrides.items():
        if value is None or value is False:
            continue
        args.append("--" + flag)
        if value is not True:
            args.append(os.fspath(value) if isinstance(value, os.PathLike) else str(value))
    return args


def evaluate(config="scripts/config.txt", progress=True, notice=None, **overrides):
    """Evaluates a classifier like `vidbench evaluate @config --flag value ...` (the seed's
    `python scripts/evaluate.py @scripts/config.txt`): overrides are the seed's flags and
    vidbench's (num_videos=4, model_type="movinet", clips="list.csv", results_dir=...).
    Returns the run's summary.json as a Summary dict. progress: True (tqdm if installed) or a
    callable taking {done, total, skipped, elapsed_s, eta_s}; notice: a callable for the
    library's non-fatal notices (default: warnings.warn)."""
    if "data_dir" not in overrides and os.environ.get("VIDBENCH_DATA_DIR"):
        overrides["data_dir"] = os.environ["VIDBENCH_DATA_DIR"]
    data_callback, data_bar = reporter(progress, "prepare")
    eval_callback, eval_bar = reporter(progress, "evaluate")
    try:
        info = _vidbench.evaluate(config_args(config, **overrides), data_progress=data_callback,
                                  progress=eval_callback, notice=notice or (lambda m: warnings.warn(m, stacklevel=3)))
    finally:
        for bar in (data_bar, eval_bar):
            if bar is not None:
                bar.close()
    with open(info["summary_path"]) as f:
        summary = Summary(json.load(f))
    for key, value in info.items():
        setattr(summary, key, value)
    return summary

