"""Builds a small Kinetics-400 val mirror for the report's browser test and downloads it
with `vidbench data download` through tests/tools/mirror_server.py on 127.0.0.1 (the
dataset issue's mirror fixture, smaller).

The mirror holds one tar.gz partition with four ../shared clips under Kinetics file names:
the two real K400 val clips (rows in the real val.csv: 'using segway') and two clips under
made-up YouTube ids whose annotation rows this script appends to a copy of the real val.csv,
one labelled 'abseiling', one with a label carrying markup and quotes.

usage: make_mirror.py WORK_DIR   (prints the data dir on success; exit 1 on failure)
"""
import os
import shutil
import subprocess
import sys
import tarfile
import time

SHARED = os.environ["VB_SHARED"]
CLI = os.environ["VB_CLI"]
ROOT = os.environ["VB_ROOT"]
HOSTILE_LABEL = "<script>alert(\"x\")</script> \"quoted\" & 'x'"
CLIPS = [  # (shared file, Kinetics file name, annotation row to append or None)
    ("data/videos/kinetics400/R6llTwEh07w.mp4", "R6llTwEh07w_000000_000010.mp4", None),
    ("data/videos/kinetics400/SOX5yA1l24A.mp4", "SOX5yA1l24A_000299_000309.mp4", None),
    ("data/videos/kinetics400/abseiling_k400.mp4", "vbabseil001_000000_000010.mp4", "abseiling,vbabseil001,0,10,val,0"),
    ("data/videos/kinetics400/mmaction2_demo.mp4", "vbxssxss001_000000_000010.mp4",
     '"' + HOSTILE_LABEL.replace('"', '""') + '",vbxssxss001,0,10,val,0'),
]


def main():
    work = sys.argv[1]
    mirror = os.path.join(work, "mirror")
    data = os.path.join(work, "data")
    os.makedirs(os.path.join(mirror, "400", "val"), exist_ok=True)
    os.makedirs(os.path.join(mirror, "400", "annotations"), exist_ok=True)
    with open(os.path.join(SHARED, "data/annotations/kinetics400/val.csv"), newline="") as f:
        annotations = f.read()
    if not annotations.endswith("\n"):
        annotations += "\n"
    annotations += "".join(row + "\n" for _, _, row in CLIPS if row)
    with open(os.path.join(mirror, "400/annotations/val.csv"), "w", newline="") as f:
        f.write(annotations)
    with tarfile.open(os.path.join(mirror, "400/val/part_0.tar.gz"), "w:gz") as tar:
        for source, name, _ in CLIPS:
            tar.add(os.path.join(SHARED, source), arcname=name)
    with open(os.path.join(mirror, "400/val/k400_val_path.txt"), "w") as f:
        f.write("https://s3.amazonaws.com/kinetics/400/val/part_0.tar.gz\n")

    port_file = os.path.join(work, "port")
    server = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests/tools/mirror_server.py"),
                               "--root", mirror, "--port-file", port_file, "--max-seconds", "120"])
    try:
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.05)
        url = "http://127.0.0.1:%s/" % open(port_file).read().strip()
        run = subprocess.run([CLI, "data", "download", "--data-dir", data, "--version", "400", "--split", "val",
                              "--all", "--mirror", url, "--min-free-mb", "1"], capture_output=True, text=True,
                             timeout=120)
    finally:
        server.terminate()
        server.wait(10)
    if run.returncode != 0:
        print("FAIL: vidbench data download from the test mirror: " + run.stderr[-1000:])
        return 1
    print(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
