#!/usr/bin/python3
"""Builds a Kinetics-400 val mirror of four partitions from the ../shared clips, for the
partition-sharding test in tests/cli/submit.sh (a 3-task job: partitions 0 and 3 go to task 0,
1 to task 1, 2 to task 2). The clips, synthetic ids and annotation rows are those of
tests/ref/evaluate_mirror.py, plus one more arm-wrestling clip so that every partition holds one.

  partition_mirror.py ROOT     (VB_SHARED names the shared folder, default ../shared)

Prints one line per partition: "part_N.tar.gz CLIP_ID CLIP_ID ...".
"""
import os
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ref"))
from evaluate_mirror import BROKEN, CLIPS, shared, write_annotations  # noqa: E402  (one list of clips for both tests)

EXTRA = ("data/videos/kinetics400_unverified/mmaction2_demo_2020-06.mp4", "vbarmwres2x_000000_000010.mp4",
         "arm wrestling", '"arm wrestling",vbarmwres2x,0,10,val,0')


def main():
    root = sys.argv[1]
    clips = CLIPS + [EXTRA]
    members = {k: shared(s) for s, k, _, _ in clips}
    members[BROKEN[1]] = shared(BROKEN[0])
    names = [k for _, k, _, _ in clips]
    partitions = [[names[0], names[2]], [names[1], BROKEN[1]], [names[3]], [names[4]]]
    write_annotations(root, clips)
    os.makedirs(os.path.join(root, "400/val"))
    with open(os.path.join(root, "400/val/k400_val_path.txt"), "w") as lst:
        for i, part in enumerate(partitions):
            name = "part_%d.tar.gz" % i
            with tarfile.open(os.path.join(root, "400/val", name), "w:gz") as tar:
                for arcname in part:
                    tar.add(members[arcname], arcname=arcname)
            lst.write("https://s3.amazonaws.com/kinetics/400/val/%s\n" % name)
            print(name, " ".join(a[:-4] for a in part))


if __name__ == "__main__":
    main()
