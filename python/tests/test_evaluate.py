"""vidbench.evaluate: the same CSV and summary.json as `vidbench evaluate` with the same flags
(the real MoViNet on real shared clips from a --clips list), flag errors, progress, and the
report written from the result."""
import json
import os

import pytest

import vidbench
from conftest import MOVINET, MOVINET_LABELS, ROOT, SANITIZED, SHARED, VIDEOS, cli

FRAMES = 8 if SANITIZED else 32


@pytest.fixture(scope="module")
def clips_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "clips.csv"
    path.write_text("# path,label,youtube_id\n"
                    f"{VIDEOS}/kinetics400/R6llTwEh07w.mp4,using segway,R6llTwEh07w\n"
                    f"{SHARED}/data/robustness/decord/corrupted.mp4,abseiling,\n"
                    f"{VIDEOS}/kinetics400/abseiling_k400.mp4,abseiling,\n"
                    f"{VIDEOS}/kinetics400/mmaction2_demo.mp4,arm wrestling,\n")
    return path


def flags(clips_file):
    return dict(model_type="movinet", weights=MOVINET, labels=MOVINET_LABELS, clips=clips_file, num_frames=FRAMES,
                threads=1, batch_size=2, num_videos="all", min_frames=0)


@pytest.fixture(scope="module")
def runs(clips_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    config = os.path.join(ROOT, "scripts/config.txt")
    seen = []
    summary = vidbench.evaluate(config, results_dir=out / "py", progress=seen.append, **flags(clips_file))
    args = ["evaluate", "@" + config]
    for k, v in dict(flags(clips_file), results_dir=out / "cli").items():
        args += ["--" + k, v]
    cli(*args)
    return summary, out, seen


def test_csv_equals_the_clis(runs):
    summary, out, _ = runs
    name = "movinet_k600_val400.csv"
    assert summary.csv_path == str(out / "py" / name)
    mine, theirs = open(out / "py" / name).read(), open(out / "cli" / name).read()
    assert mine == theirs
    # header and the four clips (corrupted.mp4 loses one frame and is still evaluated)
    assert len(mine.splitlines()) == 1 + 4


def test_summary_has_summary_json_fields(runs):
    summary, out, _ = runs
    theirs = json.load(open(out / "cli" / "movinet_k600_val400.summary.json"))
    assert set(summary) == set(theirs)
    # the CSV's path, this run's times and its process's peak RSS differ between two runs
    for key in set(theirs) - {"csv", "timing", "clips", "peak_rss_bytes"}:
        assert summary[key] == theirs[key], key
    assert summary["peak_rss_bytes"] > 0 and theirs["peak_rss_bytes"] > 0
    assert summary["csv"] == summary.csv_path
    for key in ("selected", "evaluated", "skipped"):
        assert summary["clips"][key] == theirs["clips"][key], key
    assert summary["clips"]["evaluated"] == 4 and summary["top1_accuracy"] == theirs["top1_accuracy"]
    lines = summary.accuracy_lines().splitlines()
    assert lines[0] == f"top-1 accuracy: {theirs['top1_accuracy'] * 100:.2f}%"
    assert lines[1] == f"top-5 accuracy: {theirs['topn_accuracy'] * 100:.2f}%"


def test_progress_reaches_the_total(runs):
    _, _, seen = runs
    assert seen and seen[-1]["done"] == seen[-1]["total"] == 4


def test_report_from_the_evaluation(runs, tmp):
    summary, _, _ = runs
    page = vidbench.report(tmp / "report.html", evaluation=summary, label_map=MOVINET_LABELS, previews=False)
    html = open(page).read()
    assert "R6llTwEh07w" in html and "abseiling_k400" in html and "using segway" in html


def test_unknown_flag_names_it(clips_file, tmp):
    with pytest.raises(ValueError, match="unknown flag '--frobnicate'"):
        vidbench.evaluate(None, frobnicate=1, results_dir=tmp)
    with pytest.raises(vidbench.Error, match="missing.txt"):
        vidbench.evaluate(tmp / "missing.txt")


def test_callback_exception_propagates(clips_file, tmp):
    def stop(progress):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        vidbench.evaluate(None, results_dir=tmp, progress=stop, **flags(clips_file))


def test_ctrl_c_stops_a_run_that_resumes(clips_file, tmp):
    """KeyboardInterrupt (Ctrl-C in a notebook) stops the run at the next batch even without a
    progress callback; the same call again resumes from the store."""
    import _thread
    import threading

    args = dict(flags(clips_file), batch_size=1, results_dir=tmp)
    timer = threading.Timer(0.5, _thread.interrupt_main)  # the run takes seconds (4 clips, 1 thread)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            vidbench.evaluate(None, progress=False, **args)
    finally:
        timer.cancel()
    summary = vidbench.evaluate(None, progress=False, **args)
    assert summary["clips"]["evaluated"] == 4
    # stopped mid-run (not after it: then all 4 would come from the first run) and resumed
    assert 1 <= summary["clips"]["from_earlier_runs"] < 4, summary["clips"]
