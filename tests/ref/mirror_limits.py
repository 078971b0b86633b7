#!/usr/bin/python3
"""Issue 13, hostile mirrors against `vidbench data download` (tests/tools/mirror_server.py on
127.0.0.1, or a file:// mirror): a partition streamed without end stops at the free space
above the floor and leaves no .part; a path list naming one partition 500 times fetches it
once; a "../" URL on a file:// mirror is refused instead of reading files outside the mirror.
Mirrors are built with tests/ref/data_mirror.py's helpers. Prints PASS:/FAIL:/SKIP: lines.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data_mirror as dm  # noqa: E402

check = dm.check


def skip(name, why):
    print("SKIP: %s (%s)" % (name, why))
    sys.stdout.flush()


def files_under(top, suffix=""):
    out = []
    for dirpath, _, files in os.walk(top):
        out += [os.path.join(dirpath, f) for f in files if f.endswith(suffix)]
    return out


def test_endless_partition_stops_above_the_floor():
    name = "an endless partition on a 48 MiB disk stops above the 16 MiB floor"
    mroot, data = dm.scenario_dir("endless")
    os.makedirs(data)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", data],
                      capture_output=True).returncode != 0:
        skip(name, "cannot mount a tmpfs here (not root?)")
        return
    try:
        dm.k400_mirror(mroot, missing=["part_endless.tar.gz"])  # listed; the server streams it
        m = dm.Mirror(mroot, [{"path": "/400/val/part_endless.tar.gz", "endless": "close",
                               "endless_max_bytes": 256 << 20}])
        try:
            rc, out, err = dm.run(["data", "download", "--data-dir", data, "--version", "400", "--split",
                                   "val", "--all", "--mirror", m.url, "--min-free-mb", "16", "--retries", "2"],
                                  timeout=120)
            endless = [r for r in m.requests() if r["path"].endswith("part_endless.tar.gz")]
            st = os.statvfs(data)
            free_mb = st.f_bavail * st.f_frsize / 1048576.0
            parts = files_under(data, ".part")
            listed, _ = dm.list_json(data)
            check(len(endless) == 1 and endless[0]["sent"] < 64 << 20,
                  "the endless partition was requested once and the client hung up early",
                  endless)
            check(rc == 1 and "part_endless.tar.gz" in err and "more than the" in err,
                  name + ": the partition fails naming the limit", (rc, err[-600:]))
            check(not parts and free_mb > 15, "no .part kept, %.1f MiB still free" % free_mb, (parts, free_mb))
            check(listed is not None and len(listed) == 5,
                  "the other partitions still arrive (5 clips)", listed)
        finally:
            m.close()
    finally:
        subprocess.run(["umount", data], capture_output=True)


def test_repeated_urls_fetched_once():
    mroot, data = dm.scenario_dir("repeats")
    dm.k400_mirror(mroot)
    listed_path = os.path.join(mroot, "400/val/k400_val_path.txt")
    with open(listed_path) as f:
        urls = [line for line in f if line.strip()]
    with open(listed_path, "w") as f:
        f.write(urls[0] * 500 + "".join(urls[1:]) + urls[1] * 3)
    m = dm.Mirror(mroot)
    try:
        rc, out, err = dm.download(data, m, "--all")
        gets = [r for r in m.requests() if r["path"].endswith("part_0.tar.gz")]
        check(rc == 0 and len(gets) == 1, "a partition listed 500 times is fetched once", (rc, len(gets), err[-300:]))
        check("502 repeated URLs dropped" in err, "the dropped repeats are reported", err[-300:])
    finally:
        m.close()


def test_file_mirror_dotdot_refused():
    base = tempfile.mkdtemp(dir=dm.BASE_TMP, prefix="dotdot-")
    mroot, data = os.path.join(base, "mirror"), os.path.join(base, "data")
    dm.k400_mirror(mroot)
    # A partition outside the mirror root, reachable only through "..".
    secret_clip = "vbsecret001_000000_000010.mp4"
    dm.write_tar(os.path.join(base, "secret", "outside.tar.gz"),
                 [(secret_clip, dm.shared("data/videos/kinetics400/abseiling_k400.mp4"))])
    listed_path = os.path.join(mroot, "400/val/k400_val_path.txt")
    with open(listed_path, "a") as f:
        f.write("https://s3.amazonaws.com/kinetics/400/val/../../../secret/outside.tar.gz\n")
        f.write("https://s3.amazonaws.com/kinetics/400/val/%2e%2e/%2e%2e/%2E%2E/secret/outside.tar.gz\n")
    rc, out, err = dm.run(["data", "download", "--data-dir", data, "--version", "400", "--split", "val",
                           "--all", "--mirror", "file://" + mroot, "--min-free-mb", "1", "--retries", "1"])
    leaked = [p for p in files_under(data) if "outside" in p or secret_clip in p]
    check(rc == 1 and err.count("would leave the mirror's root") >= 1 and not leaked,
          "file:// mirror: '../' and '%2e%2e/' URLs are refused, nothing from outside the root arrives",
          (rc, err[-600:], leaked))
    listed, _ = dm.list_json(data)
    check(listed is not None and len(listed) == 5, "the mirror's own partitions still arrive", listed)


def main():
    for test in (test_endless_partition_stops_above_the_floor, test_repeated_urls_fetched_once,
                 test_file_mirror_dotdot_refused):
        try:
            test()
        except Exception as e:  # one crashed scenario must not hide the others
            check(False, test.__name__, repr(e))
    return 1 if dm.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
