#!/usr/bin/env bash
# Runs the whole vidbench test suite against the build in $BUILD (default build/):
#   tests/unit/test_*    cmocka executables (one per concern)
#   tests/cli/*.sh       CLI behaviour scripts (exit codes, output), print "PASS: x" / "FAIL: x"
#   tests/ref/*.py       comparisons against reference implementations (OpenCV, numpy), run
#                        with Debian's /usr/bin/python3; print "PASS: x" / "FAIL: x"
# Optional argument: a substring; only tests whose file name contains it run.
# Ends with the line "N passed, N failed" and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
FILTER=${1:-}
export VB_ROOT=$ROOT
export VB_BUILD=$ROOT/$BUILD
export VB_CLI=$ROOT/$BUILD/vidbench
export VB_SHARED=${VB_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
case "$BUILD" in *san*) export VB_SANITIZED=1 ;; *) export VB_SANITIZED=${VB_SANITIZED:-0} ;; esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LOGS=$ROOT/$BUILD/test-logs
mkdir -p "$LOGS"
export VB_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vidbench-test.XXXXXX")
trap 'rm -rf "$VB_TEST_TMP"' EXIT

if [ ! -d "$VB_SHARED" ]; then
    echo "tests: shared data not found at $VB_SHARED (set VB_SHARED)" >&2
    exit 1
fi

passed=0
failed=0
failed_names=()

record() { # name rc log npass nfail
    local name=$1 rc=$2 log=$3 np=$4 nf=$5
    if [ "$np" -eq 0 ] && [ "$nf" -eq 0 ]; then
        if [ "$rc" -eq 0 ]; then np=1; else nf=1; fi
    elif [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then
        nf=1   # crashed or sanitizer report after its checks passed
    fi
    passed=$((passed + np))
    failed=$((failed + nf))
    if [ "$nf" -gt 0 ]; then
        failed_names+=("$name")
        echo "FAILED: $name (exit $rc; $np passed, $nf failed); log $log:"
        tail -n 40 "$log" | sed 's/^/    /'
    else
        echo "ok:     $name ($np passed)"
    fi
}

count_lines() { grep -c "$1" "$2" 2>/dev/null || true; }

for bin in "$BUILD"/tests/test_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    [ -n "$FILTER" ] && [[ $name != *"$FILTER"* ]] && continue
    log=$LOGS/$name.log
    (cd "$VB_TEST_TMP" && "$ROOT/$bin") >"$log" 2>&1
    rc=$?
    np=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    nf=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    record "$name" "$rc" "$log" "$np" "$nf"
done

for script in tests/cli/*.sh tests/ref/*.py; do
    [ -f "$script" ] || continue
    name=$(basename "$script")
    [ -n "$FILTER" ] && [[ $name != *"$FILTER"* ]] && continue
    log=$LOGS/$name.log
    case "$script" in
        *.py) /usr/bin/python3 "$script" >"$log" 2>&1 ;;
        *) bash "$script" >"$log" 2>&1 ;;
    esac
    rc=$?
    record "$name" "$rc" "$log" "$(count_lines '^PASS:' "$log")" "$(count_lines '^FAIL:' "$log")"
done

if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
