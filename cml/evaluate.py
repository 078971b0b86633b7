"""AMP job: the seed's `evaluate.py @scripts/config.txt`, run by vidbench: top-N predictions per
clip in the seed's CSV layout, summary.json, and the accuracy lines in the job log. Extra flags
from VIDBENCH_EVALUATE_ARGS (e.g. "--model_type movinet"); VIDBENCH_KINETICS_MIRROR as in the
download task; --num_videos from VIDBENCH_AMP_NUM_VIDEOS when set."""
import os

from amp_common import VIDBENCH, env_args, run

args = [VIDBENCH, "evaluate", "@scripts/config.txt"]
if os.environ.get("VIDBENCH_AMP_NUM_VIDEOS"):
    args += ["--num_videos", os.environ["VIDBENCH_AMP_NUM_VIDEOS"]]
if os.environ.get("VIDBENCH_KINETICS_MIRROR"):
    args += ["--mirror", os.environ["VIDBENCH_KINETICS_MIRROR"]]
run(args + env_args("VIDBENCH_EVALUATE_ARGS"))
