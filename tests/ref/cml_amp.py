#!/usr/bin/python3
"""The Cloudera Machine Learning AMP manifest (.project-metadata.yaml) and its task scripts
(cml/): the YAML is parsed with Debian's python3-yaml and checked against the fields the AMP
format requires; then every task's script runs, in the manifest's order, offline: the model is
the real MoViNet-A0 installed from ../shared, the Kinetics data comes from a mirror on 127.0.0.1
(built from the ../shared clips by tests/ref/evaluate_mirror.py's builder), and the evaluation
job must write the seed's CSV and print the accuracy lines. Prints PASS:/FAIL: lines."""
import os
import json
import subprocess
import sys
import tempfile

import yaml

ROOT = os.environ.get("VB_ROOT", os.getcwd())
sys.path.insert(0, os.path.join(ROOT, "tests", "ref"))
import evaluate_mirror as mirror  # noqa: E402  (its build_mirror / start_server; main() does not run)

FAILED = 0


def check(ok, name, detail=""):
    global FAILED
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or not detail else " -- " + str(detail)[-1500:]))
    sys.stdout.flush()
    FAILED += 0 if ok else 1


TASK_FIELDS = {  # type -> fields it needs (the AMP specification's)
    "run_session": {"name", "script"},
    "create_job": {"name", "entity_label", "script", "kernel"},
    "run_job": {"entity_label"},
    "start_application": {"name", "script", "subdomain"},
}


def check_manifest(meta):
    for field, kind in [("name", str), ("description", str), ("author", str), ("specification_version", float),
                        ("prototype_version", float), ("date", str), ("runtimes", list), ("tasks", list)]:
        check(isinstance(meta.get(field), kind), "manifest field %s is a %s" % (field, kind.__name__), meta.get(field))
    check(len(str(meta.get("date", ""))) == 10 and str(meta.get("date", ""))[4] == "-", "date is YYYY-MM-DD")
    for r in meta.get("runtimes") or []:
        check({"editor", "kernel", "edition"} <= set(r), "runtime names editor, kernel and edition", r)
    labels = set()
    for i, t in enumerate(meta.get("tasks") or []):
        need = TASK_FIELDS.get(t.get("type"))
        check(need is not None, "task %d has a known type (%s)" % (i, t.get("type")))
        if need is None:
            continue
        check(need <= set(t), "task %d (%s) has %s" % (i, t["type"], sorted(need)), t)
        if "script" in t:
            check(os.path.isfile(os.path.join(ROOT, t["script"])), "task %d's script %s exists" % (i, t["script"]))
        if t["type"] == "create_job":
            labels.add(t["entity_label"])
            check(t.get("cpu") == 2 and t.get("memory") == 16, "the evaluation job asks 2 vCPU / 16 GiB as the seed's")
        if t["type"] == "run_job":
            check(t["entity_label"] in labels, "run_job %s follows its create_job" % t["entity_label"])


def main():
    meta = yaml.safe_load(open(os.path.join(ROOT, ".project-metadata.yaml")))
    check(isinstance(meta, dict), ".project-metadata.yaml parses as a mapping")
    check_manifest(meta)

    work = tempfile.mkdtemp(dir=os.environ.get("VB_TEST_TMP") or None, prefix="cml-amp-")
    mroot = os.path.join(work, "mirror")
    mirror.build_mirror(mroot)
    server, url = mirror.start_server(mroot, work)
    results = os.path.join(work, "results")
    env = dict(os.environ,
               VIDBENCH_HOME=os.path.join(work, "home"),
               VIDBENCH_DATA_DIR=os.path.join(work, "data"),
               VIDBENCH_KINETICS_MIRROR=url,
               VIDBENCH_AMP_MODEL="movinet-a0-stream-k600",
               VIDBENCH_AMP_MODEL_FROM=os.path.join(mirror.SHARED, "models/movinet-a0-stream-int8-k600"),
               VIDBENCH_AMP_NUM_VIDEOS="5",
               VIDBENCH_EVALUATE_ARGS="--model_type movinet --model_trained_on kinetics-600 --num_frames 32 "
                                      "--min_frames 0 --threads 2 --results_dir " + results)
    outputs = {}
    try:
        for t in meta.get("tasks") or []:
            if t["type"] in ("run_session", "create_job"):
                p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, t["script"])], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=900)
                outputs[t.get("entity_label", t["name"])] = p.stdout + p.stderr
                check(p.returncode == 0, "task '%s' (%s) runs offline" % (t["name"], t["script"]), p.stdout + p.stderr)
        log = [json.loads(l) for l in open(os.path.join(work, "requests.log"))]
        parts = sorted({r["path"] for r in log if r["path"].endswith(".tar.gz") and r["status"] in (200, 206)})
        check(len(parts) >= 1 and all(p.startswith("/400/val/") for p in parts),
              "the download task fetched Kinetics-400 val partitions from the local mirror (%s)" % parts)
        out = outputs.get("evaluate", "")
        csv_path = os.path.join(results, "movinet_k600_val400.csv")
        check(os.path.isfile(csv_path) and "top-1 accuracy: " in out and "top-5 accuracy: " in out,
              "the evaluation job writes the seed's CSV and prints the accuracy lines", out)
        rows = open(csv_path).read().splitlines()[1:] if os.path.isfile(csv_path) else []
        expected = sorted([k[:-4] for _, k, _, _ in mirror.CLIPS] + [mirror.BROKEN[1][:-4]])
        check(sorted(r.split(",")[0] for r in rows) == expected,
              "the CSV has one row per clip the mirror holds (the damaged one decodes 32 frames)", rows)
    finally:
        server.terminate()
        server.wait()
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
