#!/usr/bin/env bash
# One command for a newcomer: install dependencies, build, run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -j"$(nproc)"
echo "vidbench built: build/vidbench"
