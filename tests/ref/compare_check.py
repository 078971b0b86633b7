#!/usr/bin/python3
"""`vidbench compare` and the report's Compare section against numbers recomputed in Python
(tests/tools/compare_expected.py) from the runs' CSVs. Three real evaluations of the shared
Kinetics-400 clips: the real MoViNet-A0-Stream (Kinetics-600, int8) at 8 and at 32 frames per
clip, and the golden tiny I3D (random weights, Kinetics-400 label map, 16 frames), whose clip
list has one more clip (UCF101 "juggling soccer ball") that the others lack: compared on the
4 clips all three have, 400- and 600-class label spaces on one ground truth. Also the verb's
usage errors and a bad input. Prints PASS:/FAIL: lines.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

ROOT = os.environ.get("VB_ROOT", os.getcwd())
sys.path.insert(0, os.path.join(ROOT, "tests/tools"))
from compare_expected import expected  # noqa: E402

CLI = os.environ.get("VB_CLI", "build/vidbench")
SHARED = os.environ.get("VB_SHARED", "../shared")
TMP = os.path.join(os.environ.get("VB_TEST_TMP") or tempfile.mkdtemp(), "compare_check")
os.makedirs(TMP, exist_ok=True)
failures = 0


def check(ok, name, detail=""):
    global failures
    print(f"PASS: {name}" if ok else f"FAIL: {name}{': ' + detail if detail else ''}")
    failures += not ok


def run(args, **kw):
    return subprocess.run([CLI] + args, capture_output=True, text=True, **kw)


def close(a, b, tol=1e-9):
    return a is not None and b is not None and abs(a - b) <= tol


V = os.path.join(SHARED, "data/videos")
CLIPS = [(f"{V}/kinetics400/R6llTwEh07w.mp4", "using segway"), (f"{V}/kinetics400/SOX5yA1l24A.mp4", "using segway"),
         (f"{V}/kinetics400/abseiling_k400.mp4", "abseiling"), (f"{V}/kinetics400/mmaction2_demo.mp4", "arm wrestling")]
EXTRA = [(f"{V}/ucf101/v_SoccerJuggling_g23_c01.avi", "juggling soccer ball")]
MOVINET = os.path.join(SHARED, "models/movinet-a0-stream-int8-k600")


def evaluate(name, clips, args):
    clip_file = os.path.join(TMP, name + ".clips")
    with open(clip_file, "w") as f:
        for path, label in clips:
            f.write(f"{path},{label},\n")
    out = os.path.join(TMP, name)
    p = run(["evaluate", "--clips", clip_file, "--num_videos", "all", "--min_frames", "0", "--threads", "2",
             "--results_dir", out] + args)
    check(p.returncode == 0, f"evaluate {name} exits 0", p.stderr[-400:])
    csvs = [os.path.join(out, f) for f in os.listdir(out) if f.endswith(".csv")] if os.path.isdir(out) else []
    return csvs[0] if csvs else os.path.join(out, "missing.csv")


movinet = ["--model_type", "movinet", "--weights", f"{MOVINET}/movinet_a0_stream_int8.tflite",
           "--labels", f"{MOVINET}/kinetics600_label_map.txt"]
csv8 = evaluate("movinet8", CLIPS, movinet + ["--num_frames", "8"])
csv32 = evaluate("movinet32", CLIPS, movinet + ["--num_frames", "32"])
csv_i3d = evaluate("i3d16", CLIPS + EXTRA, ["--model_type", "i3d", "--num_frames", "16",
                                            "--weights", f"{SHARED}/golden/i3d-tiny-k400/weights.safetensors",
                                            "--labels", f"{SHARED}/data/labelmaps/kinetics400_label_map.txt"])
csvs = [csv8, csv32, csv_i3d]
summary = json.load(open(csv_i3d[:-4] + ".summary.json"))
check(summary.get("precision") == "fp32" and summary.get("gflop_per_clip", 0) > 0 and
      summary.get("peak_rss_bytes", 0) > 0 and summary.get("label_map", "").endswith("kinetics400_label_map.txt"),
      "evaluate's summary.json records precision, GFLOP/clip, peak RSS and the label map",
      json.dumps({k: summary.get(k) for k in ("precision", "gflop_per_clip", "peak_rss_bytes", "label_map")}))
m_summary = json.load(open(csv8[:-4] + ".summary.json"))
check(m_summary.get("precision") == "int8" and "gflop_per_clip" not in m_summary and "top1_accuracy" in m_summary,
      "MoViNet: int8, no GFLOP figure (unknown), the old fields kept")

want = expected(csvs)
p = run(["compare"] + csvs + ["--format", "json"])
check(p.returncode == 0, "compare --format json exits 0", p.stderr[-300:])
got = json.loads(p.stdout) if p.returncode == 0 else {}
check(got.get("clips", {}).get("common") == len(want["common"]) == 4 and got["clips"]["union"] == want["union"] == 5,
      f"compared on the {len(want['common'])} common clips of {want['union']}", json.dumps(got.get("clips")))
check(got.get("clips", {}).get("dropped") == want["dropped"] and want["dropped"]["absent_from_a_run"] == 1,
      "dropped clips counted by reason (the UCF101 clip only the I3D run has)", json.dumps(got.get("clips")))
for i, (g, w) in enumerate(zip(got.get("runs", []), want["runs"])):
    ok = all(close(g[name]["value"], w[name][0]) and close(g[name]["low"], w[name][1]) and
             close(g[name]["high"], w[name][2]) for name in ("top1", "topk", "mean_class"))
    ok &= close(g["mean_class"]["effective_clips"], w["n_eff"]) and g["top1"]["correct"] == w["top1_correct"]
    ok &= g["pareto"] == w["pareto"] and close(g["clips_per_s"], w["clips_per_s"])
    ok &= g["absent"] == w["absent"] and g["absent_skipped"] == w["absent_skipped"]
    check(ok, f"run {chr(65 + i)}: top-1/top-{want['top_k']}/mean-class with Wilson intervals, speed, Pareto "
              f"match the recomputation (top-1 {100 * w['top1'][0]:.2f}% [{100 * w['top1'][1]:.2f}, "
              f"{100 * w['top1'][2]:.2f}])", json.dumps({"got": g["top1"], "want": w["top1"]}))
check(got.get("runs", [{}])[2].get("truth_unmapped_clips") == 0 and got["runs"][0]["num_classes"] == 600 and
      got["runs"][2]["num_classes"] == 400, "400- and 600-class models judged on the same ground truth")
for g, w in zip(got.get("pairs", []), want["pairs"]):
    ok = (g["agree"] == w["agree"] and close(g["agreement"], w["agreement"]) and g["a_only_right"] == w["a_only"] and
          g["b_only_right"] == w["b_only"] and g["both_right"] == w["both_right"] and g["both_wrong"] == w["both_wrong"]
          and close(g["mcnemar_p"], w["mcnemar_p"], 1e-12) and
          [d["video_id"] for d in g["disagreements"]] == w["disagree"])
    check(ok, f"pair {chr(65 + w['a'])}-{chr(65 + w['b'])}: agreement {w['agree']}/{len(want['common'])}, McNemar "
              f"p {w['mcnemar_p']:.4g}, disagreeing clips", json.dumps(g)[:400])
got_classes = {c["class"]: (c["clips"], c["correct"]) for c in got.get("classes", [])}
want_classes = {c["label"]: (c["clips"], c["correct"]) for c in want["classes"].values()}
spreads = [c["spread"] for c in got.get("classes", [])]
check(got_classes == want_classes and spreads == sorted(spreads, reverse=True), "per-class accuracy, largest difference first",
      f"{got_classes} vs {want_classes}")
check(sum(len(p["disagreements"]) for p in got.get("pairs", [])) > 0, "the runs disagree somewhere (the test has teeth)")

# ---- the table and CSV formats print the same figures ----
p = run(["compare"] + csvs)
w0 = want["runs"][0]["top1"]
check(p.returncode == 0 and f"top-1       {100 * w0[0]:.1f}% [{100 * w0[1]:.1f}, {100 * w0[2]:.1f}] on 4 clips" in p.stdout,
      "table: run A's top-1 line", p.stdout[:600])
p = run(["compare"] + csvs + ["--format", "csv"])
lines = p.stdout.splitlines()
check(p.returncode == 0 and lines[0].startswith("run,label,csv,clips,top1,") and len(lines) == 1 + 3 + 1 + 1 + 3,
      "csv: a header and one row per run, then per pair", p.stdout[:300])

# ---- the report's Compare section shows the same numbers ----
site = os.path.join(TMP, "site", "index.html")
p = run(["report", "--results", csv8, "--results", csv32, "--results", csv_i3d, "--videos", f"{V}/kinetics400",
         "--no-previews", "--no-probe", "--sample", "1", "-o", site])
check(p.returncode == 0, "report with three --results exits 0", p.stderr[-300:])


class Cells(HTMLParser):
    """Text of every <td> by its class, per <tr> of the given classes; ids present."""

    def __init__(self):
        super().__init__()
        self.rows, self.ids, self.hrefs, self.row, self.cell, self.text = [], set(), [], None, None, ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.hrefs.append(a["href"][1:])
        if tag == "tr":
            self.row = {"class": a.get("class", ""), "id": a.get("id"), "cells": []}
        elif tag == "td" and self.row is not None:
            self.cell, self.text = a.get("class", ""), ""

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.row["cells"].append((self.cell, " ".join(self.text.split())))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.text += data


page = Cells()
page.feed(open(site, encoding="utf-8").read() if os.path.exists(site) else "")
run_rows = [r for r in page.rows if r["class"] == "compare-run"]
numbers = lambda text: [float(x) for x in re.findall(r"[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?", text)]
ok = len(run_rows) == 3
for row, w in zip(run_rows, want["runs"]):
    cells = dict(row["cells"])
    for name, css in (("top1", "num top1"), ("topk", "num topk"), ("mean_class", "num mean-class")):
        shown = numbers(cells.get(css, ""))
        ok &= len(shown) == 3 and all(abs(s - 100 * e) <= 0.005 + 1e-9 for s, e in zip(shown, w[name]))
    ok &= abs(numbers(cells.get("num clips-per-s", "nan"))[0] - w["clips_per_s"]) <= 0.005 + 1e-9
    ok &= ("front" in cells.get("pareto", "")) == w["pareto"]
check(ok, "page: each run's accuracies, intervals, clips/s and Pareto mark as recomputed",
      json.dumps([r["cells"] for r in run_rows])[:600])
pair_rows = [r for r in page.rows if r["class"] == "compare-pair"]
ok = len(pair_rows) == 3
for row, w in zip(pair_rows, want["pairs"]):
    cells = dict(row["cells"])
    ok &= abs(numbers(cells.get("num agreement", ""))[0] - 100 * w["agreement"]) <= 0.005 + 1e-9
    ok &= abs(numbers(cells.get("num mcnemar", ""))[0] - w["mcnemar_p"]) <= 5e-4 * max(w["mcnemar_p"], 1e-300)
check(ok, "page: pairwise agreement and McNemar p as recomputed", json.dumps([r["cells"] for r in pair_rows]))
html = open(site, encoding="utf-8").read() if os.path.exists(site) else ""
counts = {k: re.search(rf'id="{k}">([0-9]+)<', html) for k in ("compare-clips", "compare-union", "dropped-absent")}
check(all(counts.values()) and [int(m.group(1)) for m in counts.values()] == [4, 5, 1],
      "page: compared / all / dropped counts")
disagreement_rows = [r for r in page.rows if r["class"] == "disagreement"]
check(len(disagreement_rows) == sum(len(w["disagree"]) for w in want["pairs"]) > 0,
      "page: one row per disagreement")
targets = [h for h in page.hrefs if h.startswith("clip-")]
check(len(targets) == len(disagreement_rows) and all(t in page.ids for t in targets),
      "page: every disagreement links to a sample-table row that exists", f"{targets} vs ids")

# ---- usage and input errors ----
p = run(["compare", csv8])
check(p.returncode == 2 and "at least two" in p.stderr, "one CSV: usage error, exit 2", p.stderr)
p = run(["compare", csv8, csv32, "--format", "xml"])
check(p.returncode == 2 and "--format" in p.stderr, "bad --format: exit 2", p.stderr)
missing = os.path.join(TMP, "nope.csv")
p = run(["compare", csv8, missing])
check(p.returncode == 1 and "nope.csv" in p.stderr and p.stdout == "", "missing CSV: exit 1 naming it, nothing printed",
      p.stderr)
bad_site = os.path.join(TMP, "bad_site", "index.html")
p = run(["report", "--results", csv8, "--results", missing, "-o", bad_site])
check(p.returncode == 1 and "nope.csv" in p.stderr and not os.path.exists(bad_site),
      "report with a missing second --results: exit 1 naming it, no page written", p.stderr)
sys.exit(1 if failures else 0)
