#!/usr/bin/env bash
# Runs the whole vidbench test suite against the build in $BUILD (default build/):
#   tests/unit/test_*    cmocka executables (one per concern)
#   tests/cli/*.sh       CLI behaviour scripts (exit codes, output), print "PASS: x" / "FAIL: x"
#   tests/ref/*.py       comparisons against reference implementations (OpenCV, numpy), run
#                        with Debian's /usr/bin/python3; print "PASS: x" / "FAIL: x"
# Optional argument: a substring; only tests whose file name contains it run.
# Ends with the line "N passed, N failed, N skipped" and exits non-zero on any failure or on
# any skip that tests/skip-allow.txt does not list.
#
# Skips. A check that cannot run here must say so, never pass silently:
#   cmocka     call skip() (cmocka prints "[  SKIPPED ] test_name"); print_message why first.
#   scripts    print a line "SKIP: name -- why" (the name is what the allow-list matches).
# Every skip is counted. A skip not listed in tests/skip-allow.txt ("FILE | TEST | REASON",
# TEST a shell glob, REASON required) fails the run: add an entry only for what this kind of
# machine cannot run (an instruction set CI's CPU lacks) or an opt-in heavy test, with why.
# Instruction sets. A test that checks an ISA-specific kernel prints "ISA tested: NAME" when
# it ran that kernel and "ISA skipped: NAME" (and skips) when the CPU lacks it; the run
# prints one "ISA tested: ...; skipped: ..." line before the closing line, so a reader knows
# which kernels this machine really compared against the plain reference.
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

ALLOW=$ROOT/tests/skip-allow.txt
passed=0
failed=0
skipped=0
failed_names=()
unexpected_skips=()
isa_tested=()
isa_skipped=()

trim() { local v=$1; v=${v#"${v%%[![:space:]]*}"}; printf '%s' "${v%"${v##*[![:space:]]}"}"; }

# "FILE | TEST | REASON" entries; an entry without a reason is itself an error.
allowed_skip() { # file test
    local file test rest
    [ -f "$ALLOW" ] || return 1
    while IFS='|' read -r file test rest; do
        file=$(trim "$file"); test=$(trim "$test"); rest=$(trim "$rest")
        [[ -z $file || $file == \#* ]] && continue
        # shellcheck disable=SC2053  # TEST is a glob on purpose
        if [ "$file" = "$1" ] && [[ $2 == $test ]]; then
            [ -n "$rest" ] && return 0
            echo "tests/skip-allow.txt: entry '$file | $test' has no reason" >&2
            return 1
        fi
    done <"$ALLOW"
    return 1
}

record() { # name rc log npass nfail nskip [skipped test names...]
    local name=$1 rc=$2 log=$3 np=$4 nf=$5 ns=$6
    shift 6
    if [ "$np" -eq 0 ] && [ "$nf" -eq 0 ] && [ "$ns" -eq 0 ]; then
        if [ "$rc" -eq 0 ]; then np=1; else nf=1; fi
    elif [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then
        nf=1   # crashed or sanitizer report after its checks passed
    fi
    passed=$((passed + np))
    failed=$((failed + nf))
    skipped=$((skipped + ns))
    local test note=""
    for test in "$@"; do
        if allowed_skip "$name" "$test"; then
            note+=" [skipped, allowed: $test]"
        else
            note+=" [UNEXPECTED SKIP: $test]"
            unexpected_skips+=("$name: $test")
        fi
    done
    while read -r isa; do [ -n "$isa" ] && isa_tested+=("$isa"); done \
        < <(sed -n 's/^ISA tested: \([A-Za-z0-9_]*\).*/\1/p' "$log")
    while read -r isa; do [ -n "$isa" ] && isa_skipped+=("$isa"); done \
        < <(sed -n 's/^ISA skipped: \([A-Za-z0-9_]*\).*/\1/p' "$log")
    if [ "$nf" -gt 0 ]; then
        failed_names+=("$name")
        echo "FAILED: $name (exit $rc; $np passed, $nf failed, $ns skipped); log $log:"
        tail -n 40 "$log" | sed 's/^/    /'
    else
        local label="ok:    "
        [[ $note == *UNEXPECTED* ]] && label="SKIPPED:"
        echo "$label $name ($np passed$([ "$ns" -gt 0 ] && echo ", $ns skipped"))$note"
    fi
}

# ISA names in a fixed order (plain first, widest last), each once.
isa_list() {
    local order=(plain sse2 ssse3 avx2 avx512vnni avx512vbmi) out=() x
    for x in "${order[@]}"; do
        printf '%s\n' "$@" | grep -qx "$x" && out+=("$x")
    done
    for x in $(printf '%s\n' "$@" | sort -u); do
        [[ " ${order[*]} " == *" $x "* ]] || out+=("$x")
    done
    local IFS=,
    echo "${out[*]}" | sed 's/,/, /g'
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
    # cmocka prints "[  SKIPPED ] name" when a case skips and again in the closing list
    mapfile -t skips < <(sed -n 's/^\[  SKIPPED \] \([^ ]*\)$/\1/p' "$log" | sort -u)
    record "$name" "$rc" "$log" "$np" "$nf" "${#skips[@]}" "${skips[@]}"
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
    mapfile -t skips < <(sed -n 's/^SKIP: \(.*\)$/\1/p' "$log" | sed 's/ -- .*//' | sort -u)
    record "$name" "$rc" "$log" "$(count_lines '^PASS:' "$log")" "$(count_lines '^FAIL:' "$log")" \
        "${#skips[@]}" "${skips[@]}"
done

if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
if [ "${#unexpected_skips[@]}" -gt 0 ]; then
    printf 'unexpected skip (not in tests/skip-allow.txt): %s\n' "${unexpected_skips[@]}"
fi
if [ "${#isa_tested[@]}" -gt 0 ] || [ "${#isa_skipped[@]}" -gt 0 ]; then
    # an ISA one test skipped but another really ran counts as tested
    mapfile -t isa_only_skipped < <(printf '%s\n' "${isa_skipped[@]}" | grep -vxF -f <(printf '%s\n' "${isa_tested[@]}" ""))
    echo "ISA tested: $(isa_list "${isa_tested[@]}"); skipped: $(isa_list "${isa_only_skipped[@]}")"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "${#unexpected_skips[@]}" -eq 0 ]
