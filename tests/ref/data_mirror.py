#!/usr/bin/python3
"""`vidbench data` against a local mirror (tests/tools/mirror_server.py on 127.0.0.1).

Each scenario builds its own mirror from ../shared clips, copied to a temp dir and renamed to
Kinetics file names <youtube_id>_<start:06d>_<end:06d>.mp4, packed into partitions, with the
real annotation files. Only the two K400 val clips whose rows exist in val.csv carry labels
(R6llTwEh07w, SOX5yA1l24A: 'using segway'); every other shared file gets a synthetic id
"vbshareNNNN" that no annotation has, so it is listed without a label.
Prints PASS:/FAIL: lines (tests/run.sh counts them).
"""
import hashlib
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time

CLI = os.environ.get("VB_CLI", "build/vidbench")
SHARED = os.environ.get("VB_SHARED", "../shared")
ROOT = os.environ.get("VB_ROOT", os.getcwd())
SERVER = os.path.join(ROOT, "tests/tools/mirror_server.py")
BASE_TMP = os.environ.get("VB_TEST_TMP") or tempfile.mkdtemp()
SANITIZED = os.environ.get("VB_SANITIZED", "0") == "1"
FAILED = 0

K400_CLIPS = {  # shared file -> (Kinetics name, label in the real K400 val.csv)
    "data/videos/kinetics400/R6llTwEh07w.mp4": ("R6llTwEh07w_000000_000010.mp4", "using segway"),
    "data/videos/kinetics400/SOX5yA1l24A.mp4": ("SOX5yA1l24A_000299_000309.mp4", "using segway"),
}


def check(ok, name, detail=""):
    global FAILED
    if ok:
        print("PASS: " + name)
    else:
        FAILED += 1
        print("FAIL: " + name + (" -- " + str(detail) if detail else ""))
    sys.stdout.flush()


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def shared(rel):
    return os.path.join(SHARED, rel)


def other_shared_files():
    """Every shared video or robustness file except the two labelled K400 clips, sorted."""
    out = []
    for top in ("data/videos", "data/robustness"):
        for dirpath, _, files in os.walk(shared(top)):
            for f in files:
                rel = os.path.relpath(os.path.join(dirpath, f), SHARED)
                if rel in K400_CLIPS or f.endswith(".txt"):
                    continue
                out.append(rel)
    return sorted(out)


def synthetic_name(i):
    return "vbshare%04d_000000_000010.mp4" % i


def add_file(tar, arcname, src):
    info = tar.gettarinfo(src, arcname)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    with open(src, "rb") as f:
        tar.addfile(info, f)


def write_tar(path, members, gz=True):
    """members: list of (arcname, source path)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tarfile.open(path, "w:gz" if gz else "w") as tar:
        for arcname, src in members:
            add_file(tar, arcname, src)


def write_pathlist(root, version_dir, split, list_name, names):
    d = os.path.join(root, version_dir, split)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, list_name), "w") as f:
        for n in names:
            f.write("https://s3.amazonaws.com/kinetics/%s/%s/%s\n" % (version_dir, split, n))


def copy_annotations(root, version_dir, shared_rel, name):
    d = os.path.join(root, version_dir, "annotations")
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(shared(shared_rel), os.path.join(d, name))


def k400_mirror(root, extra_parts=(), missing=()):
    """K400 val: part_0 = R6llTwEh07w, part_1 = SOX5yA1l24A, part_2 = a plain tar (named
    .tar.gz like the real odd partition) with a nested folder layout holding unlabelled clips.
    Returns {Kinetics file name: source path}."""
    copy_annotations(root, "400", "data/annotations/kinetics400/val.csv", "val.csv")
    expected = {}
    names = []
    for i, (src, (kname, _)) in enumerate(sorted(K400_CLIPS.items())):
        part = "part_%d.tar.gz" % i
        write_tar(os.path.join(root, "400/val", part), [(kname, shared(src))])
        expected[kname] = shared(src)
        names.append(part)
    others = other_shared_files()[:3]
    members = []
    for j, rel in enumerate(others):
        kname = synthetic_name(j)
        members.append(("kinetics400/val/misc/" + kname, shared(rel)))
        expected[kname] = shared(rel)
    write_tar(os.path.join(root, "400/val/part_2.tar.gz"), members, gz=False)
    names.append("part_2.tar.gz")
    for name, members in extra_parts:
        write_tar(os.path.join(root, "400/val", name), members)
        names.append(name)
    names[1:1] = list(missing)
    write_pathlist(root, "400", "val", "k400_val_path.txt", names)
    return expected


class Mirror:
    def __init__(self, root, faults=None):
        self.root = root
        self.dir = tempfile.mkdtemp(dir=BASE_TMP, prefix="server-")
        self.log = os.path.join(self.dir, "requests.log")
        self.faults = os.path.join(self.dir, "faults.json")
        with open(self.faults, "w") as f:
            json.dump(faults or [], f)
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", SERVER, "--root", root, "--port-file", port_file, "--log", self.log,
             "--faults", self.faults, "--max-seconds", "300"])
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        with open(port_file) as f:
            self.url = "http://127.0.0.1:%s/" % f.read().strip()

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run(args, timeout=180):
    p = subprocess.run([CLI] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def download(data_dir, mirror, *extra, version="400", split="val"):
    return run(["data", "download", "--data-dir", data_dir, "--version", version, "--split", split,
                "--mirror", mirror.url, "--min-free-mb", "1"] + list(extra))


def list_json(data_dir, *extra):
    rc, out, err = run(["data", "list", "--data-dir", data_dir, "--format", "json"] + list(extra))
    if rc != 0:
        return None, err
    return json.loads(out), err


def scenario_dir(name):
    d = tempfile.mkdtemp(dir=BASE_TMP, prefix=name + "-")
    return os.path.join(d, "mirror"), os.path.join(d, "data")


def test_download_and_labels():
    mroot, data = scenario_dir("basic")
    expected = k400_mirror(mroot)
    m = Mirror(mroot)
    try:
        rc, out, err = download(data, m, "--num-videos", "1")
        parts = [r["path"] for r in m.requests() if r["path"].endswith(".tar.gz")]
        check(rc == 0 and parts == ["/400/val/part_0.tar.gz"],
              "download --num-videos 1 fetches only the first partition", (rc, parts, err))
        rc, out, err = download(data, m, "--all", "--jobs", "2")
        check(rc == 0, "download --all --jobs 2 completes", err)
        clips, err = list_json(data, "--version", "400", "--split", "val")
        got = {c["clip_id"] + ".mp4": c for c in clips or []}
        check(sorted(got) == sorted(expected), "list shows every packed clip once",
              (sorted(got), sorted(expected)))
        same = all(sha(got[k]["path"]) == sha(v) for k, v in expected.items() if k in got)
        check(same, "unpacked clips are byte-identical to the shared originals")
        labels = {k: got[k]["label"] for k in got}
        want = {k: (K400_CLIPS[s][1] if s in K400_CLIPS else None) for k, s in expected.items()}
        for src, (kname, _) in K400_CLIPS.items():
            want[kname] = K400_CLIPS[src][1]
        check(labels == want, "labels come from the real val.csv rows (none for unannotated ids)",
              labels)
        raw = os.path.realpath(os.path.join(data, "raw/kinetics/400/val"))
        check(all(os.path.realpath(c["path"]).startswith(raw + os.sep) for c in clips),
              "clips live under DATA_DIR/raw/kinetics/400/val/")
        check(any("kinetics400/val/misc/" in c["path"] for c in clips),
              "plain-tar partition with a nested folder layout is unpacked")
        rc, out, err = run(["data", "status", "--data-dir", data])
        line = [l for l in out.splitlines() if l.startswith("400")]
        check(rc == 0 and line and line[0].split()[2] == "19906" and line[0].split()[3] == "3/3",
              "status: 19906 annotated, 3/3 partitions", out)
        rc, out, err = run(["data", "classes", "--data-dir", data])
        check(rc == 0 and "2  using segway" in out, "classes counts 2 'using segway'", out)
        rc, out, err = run(["data", "list", "--data-dir", data])
        check(rc == 0 and out.splitlines()[0].startswith("version,split,clip_id,label") and
              len(out.splitlines()) == len(expected) + 1, "list --format csv has a header and one row per clip")
        n_before = len(m.requests())
        rc, out, err = download(data, m, "--all")
        again = [r["path"] for r in m.requests()[n_before:] if r["path"].endswith(".tar.gz")]
        check(rc == 0 and again == [], "a re-run skips finished partitions", again)
    finally:
        m.close()


def test_k600_per_class_spaces():
    mroot, data = scenario_dir("k600")
    copy_annotations(mroot, "600", "data/annotations/kinetics600/val.txt", "val.txt")
    members = [("using segway/" + kname, shared(src)) for src, (kname, _) in sorted(K400_CLIPS.items())]
    write_tar(os.path.join(mroot, "600/val/using segway.tar.gz"), members)
    write_pathlist(mroot, "600", "val", "k600_val_path.txt", ["using segway.tar.gz"])
    m = Mirror(mroot)
    try:
        rc, out, err = download(data, m, "--all", version="600")
        paths = [r["path"] for r in m.requests()]
        check(rc == 0 and "/600/val/using%20segway.tar.gz" in paths,
              "K600 per-class partition URL with a space is fetched percent-encoded", (rc, paths, err))
        clips, _ = list_json(data)
        labels = sorted((c["clip_id"], c["label"]) for c in clips or [])
        check(labels == [("R6llTwEh07w_000000_000010", "using segway"),
                         ("SOX5yA1l24A_000299_000309", "using segway")],
              "K600 labels come from the ls -R listing val.txt", labels)
        check(all("/using segway/" in c["path"] for c in clips or []), "per-class folder kept")
    finally:
        m.close()


def test_dropped_connection_resumes():
    mroot, data = scenario_dir("drop")
    expected = k400_mirror(mroot)
    m = Mirror(mroot, [{"path": "/400/val/part_0.tar.gz", "drop_after": 100000, "times": 1}])
    try:
        rc, out, err = download(data, m, "--num-videos", "1")
        reqs = [r for r in m.requests() if r["path"] == "/400/val/part_0.tar.gz"]
        ranges = [r["range"] for r in reqs]
        check(rc == 0 and len(reqs) == 2 and ranges[0] is None and ranges[1] == "bytes=100000-",
              "dropped connection resumes with Range from byte 100000", (rc, ranges, err))
        clips, _ = list_json(data)
        ok = clips and len(clips) == 1 and sha(clips[0]["path"]) == sha(expected[clips[0]["clip_id"] + ".mp4"])
        check(bool(ok), "resumed partition unpacks to the exact clip")
    finally:
        m.close()


def test_500_then_success():
    mroot, data = scenario_dir("e500")
    k400_mirror(mroot)
    m = Mirror(mroot, [{"path": "/400/val/part_0.tar.gz", "status": 500, "times": 2}])
    try:
        rc, out, err = download(data, m, "--num-videos", "1")
        st = [r["status"] for r in m.requests() if r["path"] == "/400/val/part_0.tar.gz"]
        check(rc == 0 and st == [500, 500, 200], "HTTP 500 twice, then success, is retried", (rc, st, err))
    finally:
        m.close()


def test_404_reports_and_continues():
    mroot, data = scenario_dir("e404")
    k400_mirror(mroot, missing=["part_missing.tar.gz"])
    m = Mirror(mroot)
    try:
        rc, out, err = download(data, m, "--all")
        check(rc == 1 and "404" in err and "part_missing" in err, "404 partition reported, exit 1 with --all",
              (rc, err))
        clips, _ = list_json(data)
        check(clips is not None and len(clips) == 5, "the other partitions were still downloaded",
              len(clips or []))
        st = [r["status"] for r in m.requests() if "part_missing" in r["path"]]
        check(st == [404], "a 404 is final, not retried", st)
        rc, out, err = run(["data", "status", "--data-dir", data])
        line = [l for l in out.splitlines() if l.startswith("400")]
        check(line and line[0].split()[3] == "3/4" and line[0].split()[4] == "1", "status shows 3/4 done, 1 failed", out)
        rc, out, err = download(data, m, "--num-videos", "3")
        check(rc == 0, "with the target reached the run succeeds despite the missing partition", err)
    finally:
        m.close()


def hostile_tar(path, clip_src, abs_target):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        def add_bytes(name, data=b"evil\n"):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        def add_link(name, target, kind=tarfile.SYMTYPE):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target
            tar.addfile(info)
        add_bytes("../escape_dotdot.txt")
        add_bytes("sub/../../escape_nested.txt")
        add_bytes(abs_target)
        add_link("evil_link", "/")
        add_link("evil_up", "../../../..")
        add_bytes("evil_link/escape_through_link.txt")
        add_bytes("evil_up/escape_through_up.txt")
        add_link("hard_evil", "/etc/passwd", tarfile.LNKTYPE)
        add_file(tar, "R6llTwEh07w_000000_000010.mp4", clip_src)


def snapshot(top):
    out = set()
    for dirpath, dirs, files in os.walk(top):
        for f in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            out.add(os.path.join(dirpath, f))
    return out


def test_hostile_archive():
    mroot, data = scenario_dir("hostile")
    scen = os.path.dirname(mroot)
    copy_annotations(mroot, "400", "data/annotations/kinetics400/val.csv", "val.csv")
    abs_target = os.path.join(scen, "escape_absolute.txt")
    hostile_tar(os.path.join(mroot, "400/val/part_0.tar.gz"),
                shared("data/videos/kinetics400/R6llTwEh07w.mp4"), abs_target)
    write_pathlist(mroot, "400", "val", "k400_val_path.txt", ["part_0.tar.gz"])
    m = Mirror(mroot)
    before = snapshot(scen) | snapshot(m.dir)
    try:
        rc, out, err = download(data, m, "--all")
        after = snapshot(scen)
        target = os.path.realpath(os.path.join(data, "raw/kinetics/400/val")) + os.sep
        allowed_other = [os.path.realpath(data) + os.sep + p for p in
                         ("vidbench-data.db", "meta/kinetics/400/val/")]
        new = sorted(p for p in after - before if not p.startswith(m.dir))
        outside = [p for p in new if not os.path.realpath(p).startswith(target)
                   and not any(os.path.realpath(p).startswith(a) for a in allowed_other)]
        check(outside == [], "hostile tarball writes nothing outside the target", outside)
        check(not os.path.exists(abs_target), "absolute entry not written")
        links = [p for p in new if os.path.islink(p)]
        check(links == [], "no links created", links)
        check(rc == 0 and "refused" in err and "unsafe" in err, "refused entries are reported", (rc, err))
        clips, _ = list_json(data)
        check(clips and [c["clip_id"] for c in clips] == ["R6llTwEh07w_000000_000010"],
              "the safe clip of the hostile tarball is kept")
    finally:
        m.close()


def test_truncated_refetched():
    mroot, data = scenario_dir("trunc")
    k400_mirror(mroot)
    size = os.path.getsize(os.path.join(mroot, "400/val/part_0.tar.gz"))
    m = Mirror(mroot, [{"path": "/400/val/part_0.tar.gz", "truncate": size // 2, "times": 1}])
    try:
        rc, out, err = download(data, m, "--num-videos", "1")
        check("partition failed" in err and "part_0" in err and "truncated" in err,
              "truncated tarball is reported (and the run moves on to the next partition)", (rc, err))
        check(not [p for p in snapshot(os.path.join(data, "raw")) if ".unpack-" in p],
              "no half-written clip left behind")
        clips, _ = list_json(data)
        has_part0 = any(c["clip_id"].startswith("R6llTwEh07w") for c in clips or [])
        check(not has_part0, "the truncated partition's clip is not listed")
        rc, out, err = download(data, m, "--all")
        fetches = [r for r in m.requests() if r["path"] == "/400/val/part_0.tar.gz"]
        clips, _ = list_json(data)
        check(rc == 0 and len(fetches) == 2 and fetches[1]["range"] is None and
              any(c["clip_id"].startswith("R6llTwEh07w") for c in clips or []),
              "the next run fetches it again from scratch and unpacks it", (rc, fetches, err))
    finally:
        m.close()


def test_kill9_download():
    mroot, data = scenario_dir("kill")
    copy_annotations(mroot, "400", "data/annotations/kinetics400/val.csv", "val.csv")
    files = sorted(K400_CLIPS) + other_shared_files()
    if SANITIZED:
        files = files[:8]
    names, expected, faults = [], {}, []
    for i, rel in enumerate(files):
        kname = K400_CLIPS[rel][0] if rel in K400_CLIPS else synthetic_name(i)
        part = "part_%d.tar.gz" % i
        write_tar(os.path.join(mroot, "400/val", part), [(kname, shared(rel))])
        names.append(part)
        expected[kname] = sha(shared(rel))
        if os.path.getsize(shared(rel)) > 20000 and i % 3 == 0:
            # a drop makes the client wait out a backoff: kills land mid-partition
            faults.append({"path": "/400/val/" + part, "drop_after": 10000, "times": 1})
    write_pathlist(mroot, "400", "val", "k400_val_path.txt", names)
    m = Mirror(mroot, faults)
    rng = random.Random(7)
    kills = 0
    try:
        for _ in range(8):
            p = subprocess.Popen([CLI, "-q", "data", "download", "--data-dir", data, "--version", "400",
                                  "--split", "val", "--all", "--mirror", m.url, "--min-free-mb", "1"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, 0.6))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
        rc, out, err = download(data, m, "--all")
        clips, _ = list_json(data)
        ids = [c["clip_id"] for c in clips or []]
        got = {c["clip_id"] + ".mp4": sha(c["path"]) for c in clips or []}
        check(rc == 0 and kills > 0, "download completes after %d kill -9s" % kills, (rc, err))
        check(len(ids) == len(set(ids)) and got == expected,
              "no clip lost or duplicated after kill -9 (%d clips)" % len(expected),
              (len(ids), len(set(ids)), len(expected)))
        resumed = [r for r in m.requests() if r["range"] and not r["range"].startswith("bytes=0-")]
        check(len(resumed) > 0, "partial partitions were resumed with Range requests", len(resumed))
        leftovers = [p for p in snapshot(data) if p.endswith(".part") or ".unpack-" in p or ".tmp." in p]
        check(leftovers == [], "no partial files left after completion", leftovers)
    finally:
        m.close()


def all_files_mirror(name, limit=None):
    """Every shared video and robustness file, one partition each. Returns (mirror root, data
    dir, {clip_id: shared rel path})."""
    mroot, data = scenario_dir(name)
    copy_annotations(mroot, "400", "data/annotations/kinetics400/val.csv", "val.csv")
    files = sorted(K400_CLIPS) + other_shared_files()
    if limit:
        files = files[:limit]
    names, ids = [], {}
    for i, rel in enumerate(files):
        kname = K400_CLIPS[rel][0] if rel in K400_CLIPS else synthetic_name(i)
        part = "part_%d.tar.gz" % i
        write_tar(os.path.join(mroot, "400/val", part), [(kname, shared(rel))])
        names.append(part)
        ids[kname[:-4]] = rel
    write_pathlist(mroot, "400", "val", "k400_val_path.txt", names)
    return mroot, data, ids


PREP = ["--size", "64", "--num-frames", "8", "--min-frames", "1"]


def test_prepare_records_broken_clips():
    mroot, data, ids = all_files_mirror("prepare")
    m = Mirror(mroot)
    try:
        rc, out, err = download(data, m, "--all", "--jobs", "2")
        check(rc == 0, "all %d shared files downloaded as clips" % len(ids), err)
    finally:
        m.close()
    rc, out, err = run(["data", "prepare", "--data-dir", data, "--all", "--jobs", "2"] + PREP, timeout=600)
    check(rc == 0, "data prepare over every shared clip and broken file exits 0", (rc, err[-2000:]))
    clips, _ = list_json(data, *PREP)
    status = {c["clip_id"]: c for c in clips or []}
    check(sorted(status) == sorted(ids), "every clip listed once", (len(status), len(ids)))
    bad = {ids[k]: c.get("reason") for k, c in status.items() if c["status"] == "bad"}
    prepared = [ids[k] for k, c in status.items() if c["status"] == "prepared"]
    check(all(c["status"] in ("prepared", "bad") for c in status.values()),
          "each clip is either cached or recorded as bad")
    check(all(r and len(r) > 10 for r in bad.values()), "each bad clip has a reason")
    for rel in sorted(bad):
        print("INFO: bad: %s: %s" % (rel, bad[rel]))
    check("data/robustness/mp4parse/chunk_out_of_range.mp4" in bad,
          "a file FFmpeg cannot open (chunk_out_of_range.mp4) is recorded bad", sorted(bad))
    good = [r for r in ids.values() if r.startswith("data/videos/")]
    check(all(r in prepared for r in good), "all %d real clips under data/videos are cached" % len(good),
          sorted(set(good) - set(prepared)))
    cache = os.path.join(data, "cache/kinetics/400/val/s64-crop-t8-m1-fps0")
    files = sorted(f for f in os.listdir(cache))
    check(files == sorted(status[k]["clip_id"] + ".vbclip" for k in status if status[k]["status"] == "prepared"),
          "one cache file per prepared clip, nothing else", files[:5])
    ok_size = all(os.path.getsize(os.path.join(cache, f)) == 40 + 8 * 64 * 64 * 3 for f in files)
    check(ok_size, "cache files hold uint8 [8,64,64,3] plus the 40-byte header")
    rc, out, err = run(["data", "status", "--data-dir", data, "--bad"])
    line = [l for l in out.splitlines() if l.startswith("400")]
    check(rc == 0 and line and line[0].split()[-1] == str(len(bad)) and line[0].split()[-2] == str(len(prepared)),
          "status counts prepared and bad clips, --bad lists reasons", out)
    print("INFO: prepared %d, bad %d of %d" % (len(prepared), len(bad), len(ids)))


def test_kill9_prepare():
    mroot, data, ids = all_files_mirror("killprep", limit=12 if SANITIZED else None)
    m = Mirror(mroot)
    try:
        download(data, m, "--all", "--jobs", "2")
    finally:
        m.close()
    args = [CLI, "-q", "data", "prepare", "--data-dir", data, "--all", "--jobs", "2", "--size", "48",
            "--num-frames", "4", "--min-frames", "1"]
    cache = os.path.join(data, "cache/kinetics/400/val/s48-crop-t4-m1-fps0")

    def cached():
        try:
            return sum(f.endswith(".vbclip") for f in os.listdir(cache))
        except FileNotFoundError:
            return 0

    # Kill on progress, not on a timer: a fixed sleep can outlast the whole run on a fast
    # machine (then nothing is ever killed); here each run dies after 0-2 more clips land.
    rng = random.Random(11)
    kills = 0
    for _ in range(6):
        target = cached() + rng.randint(0, 2)
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while p.poll() is None and cached() < target:
            time.sleep(0.002)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    clips, _ = list_json(data, "--size", "48", "--num-frames", "4", "--min-frames", "1")
    st = [c["status"] for c in clips or []]
    check(p.returncode == 0 and kills > 0, "prepare completes after %d kill -9s" % kills, p.stderr[-500:])
    check(len(st) == len(ids) and "unpacked" not in st, "every clip prepared or recorded bad, none lost",
          (len(st), st.count("unpacked")))
    files = os.listdir(cache)
    check(sorted(files) == sorted(c["clip_id"] + ".vbclip" for c in clips if c["status"] == "prepared"),
          "cache holds exactly the prepared clips, no duplicates or temporaries", [f for f in files if "tmp" in f])
    db = sqlite3.connect(os.path.join(data, "vidbench-data.db"))
    n_rows = db.execute("SELECT count(*) FROM prepared WHERE params='s48-crop-t4-m1-fps0'").fetchone()[0]
    n_bad = db.execute("SELECT count(*) FROM bad_clips WHERE params='s48-crop-t4-m1-fps0'").fetchone()[0]
    db.close()
    check(n_rows + n_bad == len(ids), "state store has one row per clip (%d prepared, %d bad)" % (n_rows, n_bad))


def test_disk_floor():
    mroot, data = scenario_dir("disk")
    k400_mirror(mroot)
    m = Mirror(mroot)
    try:
        rc, out, err = run(["data", "download", "--data-dir", data, "--version", "400", "--split", "val",
                            "--all", "--mirror", m.url, "--min-free-mb", str(1 << 30)])
        parts = [r for r in m.requests() if r["path"].endswith(".tar.gz")]
        check(rc == 1 and "free" in err and parts == [], "stops before a partition when disk is short", (rc, err))
    finally:
        m.close()


def test_usage():
    rc, out, err = run(["data", "download", "--version", "500", "--split", "val", "--all"])
    check(rc == 2 and "400, 600 or 700" in err, "bad --version is a usage error", (rc, err))
    rc, out, err = run(["data", "download", "--version", "400", "--split", "val"])
    check(rc == 2, "download without --num-videos/--all is a usage error", (rc, err))
    empty = tempfile.mkdtemp(dir=BASE_TMP, prefix="empty-")
    rc, out, err = run(["data", "prepare", "--data-dir", empty, "--num-videos", "2"])
    check(rc == 1 and "data download" in err, "prepare with nothing downloaded says what to do", (rc, err))
    rc, out, err = run(["data", "download", "--data-dir", empty, "--version", "400", "--split", "val",
                        "--num-videos", "1", "--mirror", "http://127.0.0.1:1/", "--retries", "1"])
    check(rc == 1 and "k400_val_path.txt" in err, "unreachable mirror: exit 1 naming the URL", (rc, err))
    rc, out, err = run(["data", "--help"])
    check(rc == 0 and "download" in out and "prepare" in out, "data --help")


def main():
    for test in (test_usage, test_download_and_labels, test_k600_per_class_spaces,
                 test_dropped_connection_resumes, test_500_then_success, test_404_reports_and_continues,
                 test_hostile_archive, test_truncated_refetched, test_disk_floor, test_kill9_download,
                 test_prepare_records_broken_clips, test_kill9_prepare):
        try:
            test()
        except Exception as e:  # a crash in one scenario must not hide the others
            check(False, test.__name__, repr(e))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
