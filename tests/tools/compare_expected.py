"""What `vidbench compare` should report, recomputed from the runs' CSVs, summaries and label
maps with nothing shared with the C code but the definitions (docs/report.md): the clips
every run has with one ground truth every model can name, accuracies with Wilson intervals
found by bisection of the score test, mean-class accuracy with Kish's effective sample
size, pairwise agreement, McNemar's exact test from exact fractions, per-class accuracy and
the Pareto front. Used by tests/ref/compare_check.py and tests/browser/check_report.py.
"""
import csv
import json
import os
from fractions import Fraction
from math import comb

Z95 = 1.959963984540054
TOP_K = 5
# Kinetics-400 names Kinetics-600 reworded (docs/report.md lists them)
RENAMES = {"dyinghair": "dyeinghair", "garbagecollecting": "personcollectinggarbage",
           "makingbed": "makingthebed", "tyingtie": "tyingnecktie"}


def key(name):
    out = bytearray()
    for b in name.encode("utf-8", "surrogateescape"):
        if b >= 0x80:
            out.append(b)
        elif chr(b).isalnum():
            out.append(ord(chr(b).lower()))
    k = out.decode("utf-8", "surrogateescape")
    return RENAMES.get(k, k)


def wilson(successes, n, z=Z95):
    """Both roots of (p_hat - p)^2 = z^2 p (1 - p) / n, by bisection."""
    if n <= 0:
        return 0.0, 1.0
    ph = successes / n
    f = lambda p: (ph - p) ** 2 - z * z * p * (1 - p) / n

    def root(a, b):
        if a == b:
            return a
        for _ in range(200):
            m = (a + b) / 2
            if (f(a) > 0) == (f(m) > 0):
                a = m
            else:
                b = m
        return (a + b) / 2
    return (0.0 if successes <= 0 else root(0.0, ph)), (1.0 if successes >= n else root(ph, 1.0))


def mcnemar(b, c):
    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    return float(min(Fraction(1), 2 * Fraction(sum(comb(n, i) for i in range(k + 1)), 2 ** n)))


def summary_beside(csv_path):
    stem = csv_path[:-4] if csv_path.endswith(".csv") else csv_path
    for candidate in (stem + ".summary.json", os.path.join(os.path.dirname(csv_path), "summary.json")):
        if os.path.exists(candidate):
            return candidate
    return None


def load_run(csv_path):
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    summary_path = summary_beside(csv_path)
    summary = json.load(open(summary_path)) if summary_path else {}
    label_keys = None
    if summary.get("label_map") and os.path.exists(summary["label_map"]):
        with open(summary["label_map"], encoding="utf-8") as f:
            label_keys = {key(line.rstrip("\r\n")) for line in f if line.strip()}
    preds = sum(1 for k in rows[0] if k.startswith("pred_"))
    listed = summary.get("skipped")   # a list of {clip_id, reason}, or just a count
    skipped = {s["clip_id"] for s in listed if isinstance(s, dict)} if isinstance(listed, list) else set()
    speed = summary.get("timing", {}).get("clips_per_s_this_run")
    return {"csv": csv_path, "rows": {r["video_id"]: r for r in rows}, "order": [r["video_id"] for r in rows],
            "summary": summary, "label_keys": label_keys, "preds": preds, "skipped": skipped,
            "clips_per_s": speed if speed and speed > 0 else None}


def expected(csv_paths):
    runs = [load_run(p) for p in csv_paths]
    k = min([TOP_K] + [r["preds"] for r in runs])
    union, seen = [], set()
    for run in runs:
        for vid in run["order"]:
            if vid not in seen:
                seen.add(vid)
                union.append(vid)
    dropped = {"absent_from_a_run": 0, "no_ground_truth": 0, "ground_truth_differs": 0,
               "ground_truth_not_a_model_class": 0}
    absent = [0] * len(runs)
    absent_skipped = [0] * len(runs)
    common = []
    for vid in union:
        missing = [i for i, r in enumerate(runs) if vid not in r["rows"]]
        if missing:
            dropped["absent_from_a_run"] += 1
            for i in missing:
                absent[i] += 1
                absent_skipped[i] += vid in runs[i]["skipped"]
            continue
        truths = [r["rows"][vid]["Ground_Truth"] for r in runs]
        if not any(truths):
            dropped["no_ground_truth"] += 1
        elif not all(truths) or len({key(t) for t in truths}) != 1:
            dropped["ground_truth_differs"] += 1
        elif any(r["label_keys"] is not None and key(truths[0]) not in r["label_keys"] for r in runs):
            dropped["ground_truth_not_a_model_class"] += 1
        else:
            common.append(vid)
    common.sort()
    n = len(common)
    out = {"top_k": k, "union": len(union), "common": common, "dropped": dropped, "runs": [], "pairs": [],
           "classes": {}}
    right1 = [[key(r["rows"][v]["pred_1"]) == key(r["rows"][v]["Ground_Truth"]) for v in common] for r in runs]
    for i, run in enumerate(runs):
        c1 = sum(right1[i])
        ck = sum(key(run["rows"][v]["Ground_Truth"]) in {key(run["rows"][v][f"pred_{j}"]) for j in range(1, k + 1)}
                 for v in common)
        classes = {}
        for j, v in enumerate(common):
            t = classes.setdefault(key(run["rows"][v]["Ground_Truth"]), [0, 0])
            t[0] += 1
            t[1] += right1[i][j]
        mean = sum(c / t for t, c in classes.values()) / len(classes)
        n_eff = len(classes) ** 2 / sum(1 / t for t, _ in classes.values())
        out["runs"].append({"top1": (c1 / n,) + wilson(c1, n), "top1_correct": c1,
                            "topk": (ck / n,) + wilson(ck, n), "topk_correct": ck,
                            "mean_class": (mean,) + wilson(mean * n_eff, n_eff), "n_eff": n_eff,
                            "clips_per_s": run["clips_per_s"], "absent": absent[i], "absent_skipped": absent_skipped[i]})
    for i, run in enumerate(runs):
        me = out["runs"][i]
        me["pareto"] = me["clips_per_s"] is not None and not any(
            o["clips_per_s"] is not None and j != i and o["clips_per_s"] >= me["clips_per_s"] and
            o["top1"][0] >= me["top1"][0] and (o["clips_per_s"] > me["clips_per_s"] or o["top1"][0] > me["top1"][0])
            for j, o in enumerate(out["runs"]))
    for a in range(len(runs)):
        for b in range(a + 1, len(runs)):
            agree = [key(runs[a]["rows"][v]["pred_1"]) == key(runs[b]["rows"][v]["pred_1"]) for v in common]
            a_only = sum(x and not y for x, y in zip(right1[a], right1[b]))
            b_only = sum(y and not x for x, y in zip(right1[a], right1[b]))
            out["pairs"].append({"a": a, "b": b, "agree": sum(agree), "agreement": sum(agree) / n,
                                 "a_only": a_only, "b_only": b_only,
                                 "both_right": sum(x and y for x, y in zip(right1[a], right1[b])),
                                 "both_wrong": sum(not x and not y for x, y in zip(right1[a], right1[b])),
                                 "mcnemar_p": mcnemar(a_only, b_only),
                                 "disagree": [v for v, same in zip(common, agree) if not same]})
    for j, v in enumerate(common):
        cls = out["classes"].setdefault(key(runs[0]["rows"][v]["Ground_Truth"]),
                                        {"label": runs[0]["rows"][v]["Ground_Truth"], "clips": 0,
                                         "correct": [0] * len(runs)})
        cls["clips"] += 1
        for i in range(len(runs)):
            cls["correct"][i] += right1[i][j]
    return out
