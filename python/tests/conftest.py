"""Shared fixtures of the bindings' pytest suite: the shared data, the CLI the bindings are
compared with, a temporary folder. Run by tests/cli/python.sh (make test), which also turns
every test's outcome into the PASS:/FAIL:/SKIP: lines tests/run.sh counts."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("VB_SHARED") or os.path.join(os.path.dirname(ROOT), "shared")
CLI = os.environ.get("VB_CLI") or os.path.join(ROOT, "build", "vidbench")
SANITIZED = os.environ.get("VB_SANITIZED") == "1"
VIDEOS = os.path.join(SHARED, "data", "videos")
MOVINET_DIR = os.path.join(SHARED, "models", "movinet-a0-stream-int8-k600")
MOVINET = os.path.join(MOVINET_DIR, "movinet_a0_stream_int8.tflite")
MOVINET_LABELS = os.path.join(MOVINET_DIR, "kinetics600_label_map.txt")


def cli(*args, check=True):
    """Runs the vidbench CLI; returns the completed process."""
    proc = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"vidbench {' '.join(map(str, args))} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


@pytest.fixture
def tmp(tmp_path):
    return tmp_path


def pytest_runtest_logreport(report):
    """One line per test outcome for tests/run.sh (a failure in setup or teardown counts too)."""
    path = os.environ.get("VB_RESULT_LINES")
    if not path:
        return
    line = None
    if report.failed:
        line = f"FAIL: {report.nodeid} ({report.when})"
    elif report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        line = f"SKIP: {report.nodeid} -- {reason}"
    elif report.when == "call":
        line = f"PASS: {report.nodeid}"
    if line:
        with open(path, "a") as f:
            f.write(line + "\n")
