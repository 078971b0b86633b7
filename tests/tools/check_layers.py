#!/usr/bin/env python3
"""Checks the library's architecture rules (docs/architecture.md) on the source tree and the
built objects; prints one PASS/FAIL line per rule and, on failure, every offending edge.

1. Layers: a module includes only its own headers, common/'s, and the public headers of the
   modules below it (common -> net -> video -> model, dataset -> eval, report -> cli).
2. Internal headers (every header under src/) stay in their module; src/common/ is the shared
   bottom layer and its headers are for everyone.
3. The CLI and benchmarks include only public headers (include/vidbench/).
4. No dependency circle between the files of the library: file A calls B and B calls A (through
   their defined and undefined symbols, read with nm from the built objects).
5. No source file over 800 lines unless its opening comment says why ("long because ...").
"""
import os
import re
import subprocess
import sys
from collections import defaultdict

ROOT = os.environ.get("VB_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("VB_BUILD") or os.path.join(ROOT, "build")

RANK = {"common": 0, "net": 1, "video": 2, "model": 3, "dataset": 3, "eval": 4, "report": 4, "compare": 4}
# Which module owns each public header.
PUBLIC = {
    "error.h": "common", "labels.h": "common", "version.h": "common", "threads.h": "common", "parse.h": "common", "npy.h": "common",
    "download.h": "net", "video.h": "video",
    "i3d.h": "model", "safetensors.h": "model", "tfckpt.h": "model", "tflite.h": "model",
    "movinet.h": "model", "models.h": "model", "classifier.h": "model", "agreement.h": "model",
    "dataset.h": "dataset", "eval.h": "eval", "report.h": "report", "compare.h": "compare",
    "slurm.h": "eval",
}
# Same-rank modules that may use each other's public API, with the reason.
ALLOWED_ACROSS = {
    ("report", "eval"): "the report reads evaluation outputs through eval.h",
    ("eval", "dataset"): "evaluation lists and loads clips of a dataset",  # rank 4 -> 3 anyway
    # Known knot, to be cut by moving the results readers out of report/: compare reads runs with
    # the report's results-CSV and summary readers, and the report renders a comparison.
    ("compare", "report"): "compare reads runs with the report's results CSV and summary readers",
    ("report", "compare"): "the report renders the Compare section",
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(path):
    parts = path.split(os.sep)
    return parts[1] if parts[0] == "src" and len(parts) > 2 else None


def sources(top, exts=(".c", ".h")):
    for base, _, files in os.walk(os.path.join(ROOT, top)):
        for f in sorted(files):
            if f.endswith(exts):
                full = os.path.join(base, f)
                yield os.path.relpath(full, ROOT), open(full, encoding="utf-8", errors="replace").read()


def check_includes():
    bad = []
    for rel, text in sources("src"):
        mod = module_of(rel)
        for inc in INCLUDE.findall(text):
            if inc.startswith("vidbench/"):
                owner = PUBLIC.get(inc.split("/", 1)[1])
                if owner is None:
                    bad.append(f"{rel}: includes {inc}, a public header with no owner in check_layers.py")
                elif owner != mod and not (RANK[owner] < RANK[mod] or (mod, owner) in ALLOWED_ACROSS):
                    bad.append(f"{rel} ({mod}, layer {RANK[mod]}) includes {inc} of {owner} (layer {RANK[owner]})")
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
            if not os.path.exists(os.path.join(ROOT, target)):
                target = os.path.normpath(os.path.join("src", inc))
            owner = module_of(target)
            if owner not in (mod, "common"):
                bad.append(f"{rel} ({mod}) includes {inc}, an internal header of {owner}")
    return bad


def check_cli():
    bad = []
    for top in ("cli", "bench"):
        for rel, text in sources(top):
            for inc in INCLUDE.findall(text):
                if not (inc.startswith("vidbench/") or os.path.exists(os.path.join(ROOT, os.path.dirname(rel), inc))):
                    bad.append(f"{rel} includes {inc} (not a public header)")
                elif inc.startswith("../") and not inc.startswith(("../cli/", "../bench/")):
                    bad.append(f"{rel} includes {inc} (outside cli/ and bench/)")
    return bad


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True, text=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if len(l.split()) == 3}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True).stdout
    undefined = {l.split()[-1] for l in out.splitlines() if l.split()}
    return defined, undefined


def check_cycles():
    objdir = os.path.join(BUILD, "obj", "src")
    if not os.path.isdir(objdir):
        return None
    defined_by, needs = {}, {}
    for base, _, files in os.walk(objdir):
        for f in files:
            if f.endswith(".o"):
                full = os.path.join(base, f)
                name = os.path.relpath(full, os.path.join(BUILD, "obj"))[:-2] + ".c"
                d, u = symbols(full)
                for s in d:
                    defined_by[s] = name
                needs[name] = u
    edges = defaultdict(set)
    for f, und in needs.items():
        for s in und:
            g = defined_by.get(s)
            if g and g != f:
                edges[f].add(g)
    # Strongly connected components (Tarjan), reported if larger than one file.
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(needs):
        if v not in index:
            visit(v)
    bad = []
    for comp in comps:
        detail = "; ".join(f"{a} -> {b}" for a in comp for b in sorted(edges[a]) if b in comp)
        bad.append(f"circle between {', '.join(comp)} ({detail})")
    return bad


MAX_LINES = 800


def check_sizes():
    bad = []
    for top in ("src", "cli", "bench"):
        for rel, text in sources(top):
            lines = text.count("\n")
            head = text[:1200].lower()
            if lines > MAX_LINES and "long because" not in head:
                bad.append(f"{rel}: {lines} lines (over {MAX_LINES}, and its opening comment gives no reason)")
    return bad


def report(name, bad):
    if bad is None:
        print(f"SKIP: {name} (no objects in {BUILD}/obj: build first)")
        return 0
    if bad:
        print(f"FAIL: {name}")
        for b in bad:
            print(f"    {b}")
        return 1
    print(f"PASS: {name}")
    return 0


def main():
    failures = report("src/ includes only its own internals, common/ and lower layers' public headers", check_includes())
    failures += report("cli/ and bench/ include only public headers", check_cli())
    failures += report("no dependency circle between library files (nm)", check_cycles())
    failures += report("no source file over %d lines without a stated reason" % MAX_LINES, check_sizes())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
