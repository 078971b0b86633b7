#!/usr/bin/env bash
# The architecture rules that a machine can check (docs/architecture.md): layers and internal
# headers, the CLI on the public API only, no file-level dependency circle, file sizes.
set -u
ROOT=${VB_ROOT:-$PWD}
/usr/bin/python3 "$ROOT/tests/tools/check_layers.py"
