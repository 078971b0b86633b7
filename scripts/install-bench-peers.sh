#!/usr/bin/env bash
# Installs the optional npm peer of `vidbench bench i3d --peers` (ONNX Runtime for node) into
# bench/peers/node_modules; the benchmark finds it there (or under $VIDBENCH_NODE_MODULES) and
# skips that peer with a note when it is absent. Never needed by the library or the other verbs.
# The version is pinned in bench/peers/package.json. ONNXRUNTIME_NODE_INSTALL=skip: the package
# bundles its CPU build; its install step would only fetch the CUDA provider from api.nuget.org.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "install-bench-peers: node not found (Debian: apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "install-bench-peers: npm not found (Debian: apt-get install npm)" >&2; exit 1; }
ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix bench/peers --no-audit --no-fund
(cd bench/peers && node -e "const o = require('onnxruntime-node'); console.log('onnxruntime-node', o.env.versions.node, 'in', require.resolve('onnxruntime-node'))")
