#!/usr/bin/env bash
# One command for a newcomer: install the Debian packages, build, run the main job.
#
# The main job is the seed kit's `evaluate.py @scripts/config.txt`:
#   vidbench model fetch i3d-kinetics-400        (DeepMind's checkpoint, verified, converted)
#   vidbench evaluate @scripts/config.txt        (16 Kinetics-400 val clips, I3D, 100 frames)
# which needs the internet (GitHub for the weights, the Kinetics mirror for the clips).
# Where they cannot be reached and ../shared is beside the repository (this project's
# offline machines and CI), it says so and runs the same evaluate verb offline instead:
# the real pretrained MoViNet-A0 (installed from ../shared, sha256-verified) on the real
# Kinetics-400 clips in ../shared/data/videos/kinetics400, listed with their labels.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -j"$(nproc)"
# the Python bindings, in place: `import vidbench` with PYTHONPATH=python (README "Python")
/usr/bin/python3 python/setup.py -q build_ext --inplace
VB=build/vidbench
export VIDBENCH_HOME=${VIDBENCH_HOME:-$HOME/.cache/vidbench}

if $VB model fetch i3d-kinetics-400; then
    exec $VB evaluate @scripts/config.txt
fi

shared=$(cd .. && pwd)/shared
if [ ! -d "$shared/models/movinet-a0-stream-int8-k600" ]; then
    echo "setup-and-run: the I3D weights could not be downloaded and $shared is absent;" >&2
    echo "install them by hand (vidbench model fetch i3d-kinetics-400 --from DIR)." >&2
    exit 1
fi
echo
echo "setup-and-run: no internet: running the offline evaluation instead (MoViNet-A0-Stream"
echo "int8, Kinetics-600 classes, on the Kinetics-400 clips in $shared)."
$VB model fetch movinet-a0-stream-k600 --from "$shared/models/movinet-a0-stream-int8-k600"
mkdir -p results
clips=results/offline_clips.csv
{
    echo "# path,label: Kinetics-400 clips from ../shared with their documented labels"
    echo "$shared/data/videos/kinetics400/R6llTwEh07w.mp4,using segway"
    echo "$shared/data/videos/kinetics400/SOX5yA1l24A.mp4,using segway"
    echo "$shared/data/videos/kinetics400/abseiling_k400.mp4,abseiling"
    echo "$shared/data/videos/kinetics400/mmaction2_demo.mp4,arm wrestling"
} > "$clips"
exec $VB evaluate @scripts/config.txt --model_type movinet --model_trained_on kinetics-600 \
    --clips "$clips" --num_videos all --min_frames 0
