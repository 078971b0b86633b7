"""AMP task 2: the pretrained model (DeepMind's I3D by default, verified and converted) and a
small selection of Kinetics-400 val clips, downloaded and prepared so the evaluation job starts
at once. VIDBENCH_AMP_MODEL / VIDBENCH_AMP_MODEL_FROM pick another model or install it from a
local copy; VIDBENCH_KINETICS_MIRROR points at a Kinetics mirror; VIDBENCH_DATA_DIR says where
the data goes (default data/)."""
import os

from amp_common import VIDBENCH, run

model = os.environ.get("VIDBENCH_AMP_MODEL", "i3d-kinetics-400")
fetch = [VIDBENCH, "model", "fetch", model]
if os.environ.get("VIDBENCH_AMP_MODEL_FROM"):
    fetch += ["--from", os.environ["VIDBENCH_AMP_MODEL_FROM"]]
run(fetch)

num_videos = os.environ.get("VIDBENCH_AMP_NUM_VIDEOS", "16")
data = ["--version", "400", "--split", "val", "--num-videos", num_videos]
if os.environ.get("VIDBENCH_KINETICS_MIRROR"):
    data += ["--mirror", os.environ["VIDBENCH_KINETICS_MIRROR"]]
run([VIDBENCH, "data", "download"] + data)
run([VIDBENCH, "data", "status", "--version", "400", "--split", "val"])
