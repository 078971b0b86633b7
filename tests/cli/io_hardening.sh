#!/usr/bin/env bash
# Issue 13, file-system half: full disks, stale temporaries of killed writers, symlink loops
# and planted links under report output, unwritable or busy results dirs. Each case injects
# the fault for real (a tmpfs that is full, a pid that is dead, a link to ".") and checks that
# it happened before judging the outcome.
set -u
CLI=${VB_CLI:?}
S=${VB_SHARED:?}
T=${VB_TEST_TMP:?}/io_hardening
rm -rf "$T"; mkdir -p "$T"
CLIP=$S/data/videos/kinetics400/abseiling_k400.mp4
MOUNTS=()
cleanup() { for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done; }
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; }
skip() { echo "SKIP: $1"; }

# A pid that certainly belongs to no process: a child that has exited and been reaped.
dead_pid() { sh -c 'echo $$' ; }

# --- stale temporaries of a killed writer (x.npy.tmp.PID.N) are removed by the next run ---
mkdir -p "$T/stale"
dead=$(dead_pid)
if kill -0 "$dead" 2>/dev/null; then
    fail "pid $dead should be dead for the stale-temporary test"
else
    head -c 100000 /dev/zero > "$T/stale/x.npy.tmp.$dead.0"
    head -c 100 /dev/zero > "$T/stale/other.npy.tmp.$dead.3"
    head -c 100 /dev/zero > "$T/stale/x.npy.tmp.$$.0"          # this shell is alive: kept
    head -c 100 /dev/zero > "$T/stale/notes.tmp.txt"            # not our pattern: kept
    "$CLI" -q frames "$CLIP" -o "$T/stale/x.npy" --num-frames 4 --size 32 >/dev/null 2>"$T/err"
    rc=$?
    if [ $rc -eq 0 ] && [ ! -e "$T/stale/x.npy.tmp.$dead.0" ] && [ ! -e "$T/stale/other.npy.tmp.$dead.3" ] \
        && [ -e "$T/stale/x.npy.tmp.$$.0" ] && [ -e "$T/stale/notes.tmp.txt" ] && [ -s "$T/stale/x.npy" ]; then
        pass "frames -o removes temporaries of dead writers, keeps a live writer's and other files"
    else
        fail "stale temporaries (exit $rc): $(ls "$T/stale") $(cat "$T/err")"
    fi
fi
